/**
 * The LLaMA forward pass in DJL NDArray operations (Hugging Face eager semantics), with taps that
 * accumulate on the device the per-feature sum of squares of every prunable Linear's input.
 * Entry point: {@link io.layerscope.llama.LlamaModel#forward}, which returns mergeable
 * {@link io.layerscope.llama.TapSums}.
 */
package io.layerscope.llama;
