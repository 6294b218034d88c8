/**
 * Files for llama.cpp: the importance matrix of a sweep's calibration in llama.cpp's GGUF layout
 * ({@link io.layerscope.llamacpp.ImportanceMatrix}), written by a small GGUF writer of our own
 * ({@link io.layerscope.llamacpp.GgufWriter}; no Java GGUF library is published on Maven Central).
 */
package io.layerscope.llamacpp;
