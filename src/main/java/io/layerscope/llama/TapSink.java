package io.layerscope.llama;

import ai.djl.ndarray.NDArray;

/** Receives each tap tensor [batch, tokens, features] of a forward pass, under its tap key. */
interface TapSink {
    /** Wants no tap: a plain forward. */
    TapSink NONE = new TapSink() {
        @Override
        public boolean wants(String tapKey) {
            return false;
        }

        @Override
        public void accept(String tapKey, NDArray x) {
            throw new IllegalStateException("no tap was asked for");
        }
    };

    /** True when the tap with this key should be computed and passed on. */
    boolean wants(String tapKey);

    void accept(String tapKey, NDArray x);
}
