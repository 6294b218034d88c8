/** Calibration data: C4 shards, CPython-compatible random numbers, Wanda's get_c4 window sampling and the tokenizer. */
package io.layerscope.calibration;
