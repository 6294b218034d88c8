package io.layerscope.llama;

import io.layerscope.model.Checkpoint;
import io.layerscope.model.LlamaConfig;
import io.layerscope.model.RopeScaling;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An independent, deliberately plain forward pass of a LLaMA checkpoint, written from REFERENCE.md
 * section 2 with loops over float[] weights and double arithmetic. It shares no code with the DJL
 * forward; tests compare the two.
 */
public final class ReferenceLlama {
    private final LlamaConfig c;
    private final Checkpoint ckpt;
    private final int hidden;
    private final int nh;
    private final int nkv;
    private final int d;
    private final int inter;
    private final boolean moduloKvHeads;

    public ReferenceLlama(Checkpoint ckpt) {
        this(ckpt, false);
    }

    /**
     * {@code moduloKvHeads}: a deliberately wrong GQA mapping (query head j reads KV head j % nkv
     * instead of j / (nh / nkv)), for tests that show the mapping matters.
     */
    ReferenceLlama(Checkpoint ckpt, boolean moduloKvHeads) {
        this.moduloKvHeads = moduloKvHeads;
        this.ckpt = ckpt;
        this.c = ckpt.config();
        this.hidden = c.hiddenSize();
        this.nh = c.numAttentionHeads();
        this.nkv = c.numKeyValueHeads();
        this.d = c.headDim();
        this.inter = c.intermediateSize();
    }

    /** The last block of the checkpoint. */
    int lastBlock() {
        return c.numHiddenLayers() - 1;
    }

    /** Every tap of one sequence, [T][features], keyed like Tap.key; blocks 0..lastBlock (+ final norm if all). */
    public Map<String, double[][]> taps(int[] ids, int lastBlock) {
        return forward(ids, lastBlock, null);
    }

    /**
     * The residual stream and down_proj's output of one sequence, [T][features]: "residual/K" (K = 0
     * the embedding output, K = i + 1 block i's output) and "down_out/i" (before the residual
     * addition), blocks 0..lastBlock.
     */
    public Map<String, double[][]> streams(int[] ids, int lastBlock) {
        Map<String, double[][]> streams = new LinkedHashMap<>();
        forward(ids, lastBlock, streams);
        return streams;
    }

    private Map<String, double[][]> forward(int[] ids, int lastBlock, Map<String, double[][]> streams) {
        int t = ids.length;
        Map<String, double[][]> out = new LinkedHashMap<>();
        float[] embed = w("model.embed_tokens.weight");
        double[][] h = new double[t][hidden];
        for (int p = 0; p < t; p++) {
            for (int j = 0; j < hidden; j++) {
                h[p][j] = embed[ids[p] * hidden + j];
            }
        }
        double[] inv = invFreq();
        if (streams != null) {
            streams.put("residual/0", copy(h));
        }
        for (int b = 0; b <= lastBlock; b++) {
            String pre = "model.layers." + b + ".";
            double[][] x = rmsNorm(h, w(pre + "input_layernorm.weight"));
            out.put(b + "/ATTN_IN", x);
            double[][] q = linear(x, w(pre + "self_attn.q_proj.weight"), nh * d);
            double[][] k = linear(x, w(pre + "self_attn.k_proj.weight"), nkv * d);
            double[][] v = linear(x, w(pre + "self_attn.v_proj.weight"), nkv * d);
            rope(q, nh, inv);
            rope(k, nkv, inv);
            double[][] a = new double[t][nh * d];
            for (int head = 0; head < nh; head++) {
                int kvh = moduloKvHeads ? head % nkv : head / (nh / nkv);
                for (int p = 0; p < t; p++) {
                    double[] s = new double[p + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int r = 0; r <= p; r++) {
                        double dot = 0;
                        for (int i = 0; i < d; i++) {
                            dot += q[p][head * d + i] * k[r][kvh * d + i];
                        }
                        s[r] = dot / Math.sqrt(d);
                        max = Math.max(max, s[r]);
                    }
                    double z = 0;
                    for (int r = 0; r <= p; r++) {
                        s[r] = Math.exp(s[r] - max);
                        z += s[r];
                    }
                    for (int r = 0; r <= p; r++) {
                        for (int i = 0; i < d; i++) {
                            a[p][head * d + i] += s[r] / z * v[r][kvh * d + i];
                        }
                    }
                }
            }
            out.put(b + "/ATTN_OUT", a);
            add(h, linear(a, w(pre + "self_attn.o_proj.weight"), hidden));
            x = rmsNorm(h, w(pre + "post_attention_layernorm.weight"));
            out.put(b + "/MLP_IN", x);
            double[][] g = linear(x, w(pre + "mlp.gate_proj.weight"), inter);
            double[][] u = linear(x, w(pre + "mlp.up_proj.weight"), inter);
            double[][] act = new double[t][inter];
            for (int p = 0; p < t; p++) {
                for (int j = 0; j < inter; j++) {
                    double gv = g[p][j];
                    act[p][j] = gv / (1 + Math.exp(-gv)) * u[p][j];
                }
            }
            out.put(b + "/MLP_ACT", act);
            double[][] down = linear(act, w(pre + "mlp.down_proj.weight"), hidden);
            add(h, down);
            if (streams != null) {
                streams.put("down_out/" + b, down);
                streams.put("residual/" + (b + 1), copy(h));
            }
        }
        if (lastBlock == c.numHiddenLayers() - 1) {
            out.put("final/FINAL_NORM", rmsNorm(h, w("model.norm.weight")));
        }
        return out;
    }

    /** REFERENCE.md's inv_freq with llama3 scaling, straight from the formula. */
    double[] invFreq() {
        double[] inv = new double[d / 2];
        RopeScaling s = c.ropeScaling();
        for (int i = 0; i < d / 2; i++) {
            double f = 1.0 / Math.pow(c.ropeTheta(), 2.0 * i / d);
            if (s != null) {
                double lo = s.originalMaxPositionEmbeddings() / s.lowFreqFactor();
                double hi = s.originalMaxPositionEmbeddings() / s.highFreqFactor();
                double wavelen = 2 * Math.PI / f;
                if (wavelen > lo) {
                    f = f / s.factor();
                } else if (wavelen >= hi) {
                    double sm = (s.originalMaxPositionEmbeddings() / wavelen - s.lowFreqFactor())
                            / (s.highFreqFactor() - s.lowFreqFactor());
                    f = (1 - sm) * f / s.factor() + sm * f;
                }
            }
            inv[i] = f;
        }
        return inv;
    }

    /** In place: each head's vector x becomes x*cos + rotate_half(x)*sin at its position. */
    private void rope(double[][] x, int heads, double[] inv) {
        int half = d / 2;
        for (int p = 0; p < x.length; p++) {
            for (int head = 0; head < heads; head++) {
                int o = head * d;
                double[] r = new double[d];
                for (int i = 0; i < d; i++) {
                    double angle = p * inv[i % half];
                    double rot = i < half ? -x[p][o + i + half] : x[p][o + i - half];
                    r[i] = x[p][o + i] * Math.cos(angle) + rot * Math.sin(angle);
                }
                System.arraycopy(r, 0, x[p], o, d);
            }
        }
    }

    private double[][] rmsNorm(double[][] h, float[] weight) {
        double[][] out = new double[h.length][h[0].length];
        for (int p = 0; p < h.length; p++) {
            double ms = 0;
            for (double v : h[p]) {
                ms += v * v;
            }
            double scale = 1 / Math.sqrt(ms / h[p].length + c.rmsNormEps());
            for (int j = 0; j < h[p].length; j++) {
                out[p][j] = h[p][j] * scale * weight[j];
            }
        }
        return out;
    }

    /** x [T][in] times W^T, W row-major [out][in]. */
    private static double[][] linear(double[][] x, float[] w, int outFeatures) {
        int in = x[0].length;
        double[][] y = new double[x.length][outFeatures];
        for (int p = 0; p < x.length; p++) {
            for (int o = 0; o < outFeatures; o++) {
                double s = 0;
                for (int i = 0; i < in; i++) {
                    s += x[p][i] * w[o * in + i];
                }
                y[p][o] = s;
            }
        }
        return y;
    }

    private static double[][] copy(double[][] h) {
        double[][] c = new double[h.length][];
        for (int p = 0; p < h.length; p++) {
            c[p] = h[p].clone();
        }
        return c;
    }

    private static void add(double[][] h, double[][] delta) {
        for (int p = 0; p < h.length; p++) {
            for (int j = 0; j < h[p].length; j++) {
                h[p][j] += delta[p][j];
            }
        }
    }

    /** Weights used instead of the checkpoint's (the pruned ones of a sequential reference). */
    private final Map<String, float[]> replaced = new java.util.HashMap<>();

    /** From now on the forward reads {@code weight} for {@code tensor}. */
    void replace(String tensor, float[] weight) {
        replaced.put(tensor, weight.clone());
    }

    private float[] w(String tensor) {
        float[] r = replaced.get(tensor);
        return r != null ? r : ckpt.readFloats(tensor);
    }
}
