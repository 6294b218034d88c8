package io.layerscope.llama;

import io.layerscope.model.LlamaConfig;
import io.layerscope.model.RopeScaling;

/**
 * Rotary position embedding frequencies as Hugging Face's {@code LlamaRotaryEmbedding} computes them,
 * including the llama3 rope scaling (docs/METRICS.md, forward pass). Computed in double on the host; the
 * forward pass rounds them to float32 once.
 *
 * <pre>{@code
 * double[] f = RotaryEmbedding.inverseFrequencies(ckpt.config());   // head_dim / 2 values
 * }</pre>
 */
public final class RotaryEmbedding {
    private RotaryEmbedding() {
    }

    /** {@code inv_freq[i] = 1 / theta^(2i/d)} for i in [0, d/2), then llama3 scaling when configured. */
    public static double[] inverseFrequencies(LlamaConfig config) {
        int d = config.headDim();
        double[] inv = new double[d / 2];
        for (int i = 0; i < inv.length; i++) {
            inv[i] = 1.0 / Math.pow(config.ropeTheta(), (2.0 * i) / d);
        }
        RopeScaling s = config.ropeScaling();
        return s == null ? inv : llama3(inv, s);
    }

    /** The llama3 smoothing between low and high frequencies (transformers' _compute_llama3_parameters). */
    static double[] llama3(double[] inv, RopeScaling s) {
        double origMax = s.originalMaxPositionEmbeddings();
        double lowWavelen = origMax / s.lowFreqFactor();
        double highWavelen = origMax / s.highFreqFactor();
        double[] out = new double[inv.length];
        for (int i = 0; i < inv.length; i++) {
            double wavelen = 2 * Math.PI / inv[i];
            if (wavelen < highWavelen) {
                out[i] = inv[i];
            } else if (wavelen > lowWavelen) {
                out[i] = inv[i] / s.factor();
            } else {
                double smooth = (origMax / wavelen - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor());
                out[i] = (1 - smooth) * inv[i] / s.factor() + smooth * inv[i];
            }
        }
        return out;
    }
}
