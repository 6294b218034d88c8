/** Downloads from the Hugging Face Hub into a cache laid out as huggingface_hub lays it out, so caches filled by the Python tools are shared. */
package io.layerscope.hub;
