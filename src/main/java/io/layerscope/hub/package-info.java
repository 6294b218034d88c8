/**
 * Downloads from the Hugging Face Hub into a cache laid out as huggingface_hub lays it out, so caches
 * filled by the Python tools are shared. Entry points: {@link io.layerscope.hub.HubSettings} (environment),
 * {@link io.layerscope.hub.HubClient} (models and repo files), {@link io.layerscope.hub.C4Shards}
 * (calibration shards), {@link io.layerscope.hub.HubCache} (lookups without network).
 */
package io.layerscope.hub;
