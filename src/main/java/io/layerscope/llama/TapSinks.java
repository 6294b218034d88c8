package io.layerscope.llama;

import ai.djl.ndarray.NDArray;

/** Two sinks fed by one forward pass: each gets the taps it wants and every stream. */
final class TapSinks implements TapSink {
    private final TapSink first;
    private final TapSink second;

    TapSinks(TapSink first, TapSink second) {
        this.first = first;
        this.second = second;
    }

    @Override
    public boolean wants(String tapKey) {
        return first.wants(tapKey) || second.wants(tapKey);
    }

    @Override
    public void accept(String tapKey, NDArray x) {
        if (first.wants(tapKey)) {
            first.accept(tapKey, x);
        }
        if (second.wants(tapKey)) {
            second.accept(tapKey, x);
        }
    }

    @Override
    public void embedded(NDArray h) {
        first.embedded(h);
        second.embedded(h);
    }

    @Override
    public void residual(int block, NDArray in, NDArray out) {
        first.residual(block, in, out);
        second.residual(block, in, out);
    }

    @Override
    public void downProj(int block, NDArray in, NDArray out) {
        first.downProj(block, in, out);
        second.downProj(block, in, out);
    }
}
