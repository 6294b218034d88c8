/** Hugging Face LLaMA checkpoints: config, safetensors files read by memory mapping, model resolution, the prunable layers and the embedded demo model. */
package io.layerscope.model;
