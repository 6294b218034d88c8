/** The LLaMA forward pass in DJL NDArray operations, with taps that accumulate the per-feature sum of squares of every prunable Linear's input. */
package io.layerscope.llama;
