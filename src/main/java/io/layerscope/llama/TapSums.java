package io.layerscope.llama;

import io.layerscope.LayerscopeException;
import java.io.Serializable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Partial Wanda statistics of some calibration sequences: per tap key, the float32 sum over every
 * token of x^2 per input feature, with the number of sequences and tokens. Partial sums of disjoint
 * shards merge exactly (docs/METRICS.md, scaler_row): add the sums, add the counts, divide once.
 *
 * <pre>{@code
 * TapSums all = shardA.merge(shardB);
 * float[] scalerRow = all.scalerRow(layer.tapKey());   // sum / nsamples: Wanda's scaler_row
 * }</pre>
 *
 * Immutable; plain Java so Spark can ship it between executors and the driver.
 */
public final class TapSums implements Serializable {
    private static final long serialVersionUID = 1L;

    private final Map<String, float[]> sumSq;
    private final long nsamples;
    private final long ntokens;

    /** Copies {@code sumSq}; {@code nsamples} counts sequences, {@code ntokens} tokens. */
    public TapSums(Map<String, float[]> sumSq, long nsamples, long ntokens) {
        if (nsamples < 0 || ntokens < 0) {
            throw new IllegalArgumentException("negative counts: nsamples " + nsamples + ", ntokens " + ntokens);
        }
        Map<String, float[]> copy = new LinkedHashMap<>();
        sumSq.forEach((k, v) -> copy.put(k, v.clone()));
        this.sumSq = Collections.unmodifiableMap(copy);
        this.nsamples = nsamples;
        this.ntokens = ntokens;
    }

    /** No sequences: the identity of {@link #merge}. */
    public static TapSums empty() {
        return new TapSums(Map.of(), 0, 0);
    }

    /** Per tap key, the sum of x^2 per input feature. The arrays must not be modified. */
    public Map<String, float[]> sumSq() {
        return sumSq;
    }

    public Set<String> keys() {
        return sumSq.keySet();
    }

    /** Calibration sequences summed (Wanda's nsamples). */
    public long nsamples() {
        return nsamples;
    }

    /** Tokens summed over all sequences. */
    public long ntokens() {
        return ntokens;
    }

    /**
     * Elementwise float32 addition of the sums and addition of the counts. Both sides must hold the
     * same taps, except that a side with no sequences contributes nothing.
     */
    public TapSums merge(TapSums other) {
        if (other.nsamples == 0 && other.sumSq.isEmpty()) {
            return this;
        }
        if (nsamples == 0 && sumSq.isEmpty()) {
            return other;
        }
        if (!sumSq.keySet().equals(other.sumSq.keySet())) {
            throw new IllegalStateException("cannot merge activation sums of different taps: " + sumSq.keySet()
                    + " vs " + other.sumSq.keySet() + "; every shard must run the same model up to the same block");
        }
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, float[]> e : sumSq.entrySet()) {
            float[] a = e.getValue();
            float[] b = other.sumSq.get(e.getKey());
            if (a.length != b.length) {
                // a node that holds another checkpoint at the model's path: the user's to fix
                throw new LayerscopeException("cannot merge activation sums of tap " + e.getKey() + ": " + a.length
                        + " features vs " + b.length + "; the shards ran different models (every node must hold the"
                        + " same checkpoint at the model's path, or use --ship-model)");
            }
            float[] s = new float[a.length];
            for (int j = 0; j < a.length; j++) {
                s[j] = a[j] + b[j];
            }
            out.put(e.getKey(), s);
        }
        return new TapSums(out, nsamples + other.nsamples, ntokens + other.ntokens);
    }

    /** The sums of {@code keys} alone (each must be held), with the same counts. */
    public TapSums only(List<String> keys) {
        Map<String, float[]> kept = new LinkedHashMap<>();
        for (String k : keys) {
            float[] s = sumSq.get(k);
            if (s == null) {
                throw new IllegalArgumentException("no sums of tap " + k + " among " + sumSq.keySet());
            }
            kept.put(k, s);
        }
        return new TapSums(kept, nsamples, ntokens);
    }

    /** Wanda's scaler_row of the layers fed by this tap: sum of x^2 / nsamples, in float32. */
    public float[] scalerRow(String tapKey) {
        float[] s = sumSq.get(tapKey);
        if (s == null) {
            throw new LayerscopeException("no activation sums for tap " + tapKey + "; the forward pass collected "
                    + (sumSq.isEmpty() ? "none" : String.join(", ", sumSq.keySet())));
        }
        if (nsamples == 0) {
            throw new LayerscopeException("no calibration sequences were run, so tap " + tapKey + " has no scaler_row");
        }
        float n = nsamples;
        float[] out = new float[s.length];
        for (int j = 0; j < s.length; j++) {
            out[j] = s[j] / n;
        }
        return out;
    }
}
