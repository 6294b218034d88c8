package io.layerscope.llama;

import ai.djl.ndarray.NDArray;

/**
 * Receives each tap tensor [batch, tokens, features] of a forward pass, under its tap key, and, for
 * sinks that want them, the residual stream around each block and down_proj's input and output
 * (all [batch, tokens, features], valid only during the call).
 */
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

    /** The residual stream after the embedding: block 0's input. */
    default void embedded(NDArray h) {
    }

    /** The residual stream entering and leaving block {@code block}. */
    default void residual(int block, NDArray in, NDArray out) {
    }

    /** down_proj's input (the MLP_ACT tap) and its output before the residual addition, in block {@code block}. */
    default void downProj(int block, NDArray in, NDArray out) {
    }
}
