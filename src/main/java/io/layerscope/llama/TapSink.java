package io.layerscope.llama;

import ai.djl.ndarray.NDArray;

/** Receives each tap tensor [batch, tokens, features] of a forward pass, under its tap key. */
interface TapSink {
    /** True when the tap with this key should be computed and passed on. */
    boolean wants(String tapKey);

    void accept(String tapKey, NDArray x);
}
