package io.layerscope.llama;

import io.layerscope.model.Checkpoint;
import io.layerscope.model.PrunableLayer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Wanda's prune_wanda written out plainly from REFERENCE section 6 over {@link ReferenceLlama}
 * (loops over float[] weights, double arithmetic): per block, the dense block's taps over every
 * sequence with the blocks before it pruned, per Linear the floor(in * s) smallest |W| * sqrt(scaler_row)
 * of each row by a stable sort, W[mask] = 0, then the next block. Shares no code with the sweep.
 */
final class SequentialReference {
    /**
     * Per tap key its scaler_row (float32), per layer name its mask [out][in] (true = pruned), and per
     * window its streams: "residual/K" of the pruned model (what prune_wanda feeds block K), and
     * "down_in/i", "down_out/i" and the taps "i/ATTN_IN" .. "i/MLP_ACT" of the dense block i over the
     * pruned stream (what block i's masks see).
     */
    record Result(Map<String, float[]> scalerRows, Map<String, boolean[][]> masks, List<Map<String, double[][]>> streams) {
    }

    private SequentialReference() {
    }

    /** Unstructured masks at {@code sparsity} ({@code n} = 0), or N:M masks. */
    static Result run(Checkpoint ckpt, List<int[]> windows, double sparsity, int n, int m) {
        double[] each = new double[ckpt.config().numHiddenLayers()];
        java.util.Arrays.fill(each, sparsity);
        return run(ckpt, windows, each, n, m);
    }

    /** Unstructured masks at each block's own sparsity ({@code n} = 0), or N:M masks. */
    static Result run(Checkpoint ckpt, List<int[]> windows, double[] blockSparsity, int n, int m) {
        ReferenceLlama ref = new ReferenceLlama(ckpt);
        int blocks = ckpt.config().numHiddenLayers();
        Map<String, float[]> rows = new LinkedHashMap<>();
        Map<String, boolean[][]> masks = new LinkedHashMap<>();
        List<Map<String, double[][]>> streams = new ArrayList<>();
        windows.forEach(w -> streams.add(new LinkedHashMap<>()));
        for (int b = 0; b < blocks; b++) {
            for (int s = 0; s < windows.size(); s++) {
                Map<String, double[][]> dense = ref.streams(windows.get(s), b);
                Map<String, double[][]> taps = ref.taps(windows.get(s), b);
                for (String tap : new String[] {"ATTN_IN", "ATTN_OUT", "MLP_IN", "MLP_ACT"}) {
                    streams.get(s).put(b + "/" + tap, taps.get(b + "/" + tap));
                }
                streams.get(s).put("down_in/" + b, taps.get(b + "/MLP_ACT"));
                streams.get(s).put("down_out/" + b, dense.get("down_out/" + b));
            }
            int block = b;
            rows.putAll(scalerRows(ref, windows, b,
                    java.util.stream.Stream.of("ATTN_IN", "ATTN_OUT", "MLP_IN", "MLP_ACT").map(t -> block + "/" + t).toList()));
            for (PrunableLayer l : ckpt.prunableLayers()) {
                if (l.block() == b) {
                    float[] w = ckpt.readFloats(l.weightTensor());
                    boolean[][] mask = n == 0 ? mask(w, l.outFeatures(), l.inFeatures(), rows.get(l.tapKey()), blockSparsity[b])
                            : nOfM(w, l.outFeatures(), l.inFeatures(), rows.get(l.tapKey()), n, m);
                    masks.put(l.name(), mask);
                    for (int i = 0; i < l.outFeatures(); i++) {
                        for (int j = 0; j < l.inFeatures(); j++) {
                            if (mask[i][j]) {
                                w[i * l.inFeatures() + j] = 0f;
                            }
                        }
                    }
                    ref.replace(l.weightTensor(), w);
                }
            }
        }
        rows.putAll(scalerRows(ref, windows, blocks - 1, List.of("final/FINAL_NORM")));
        for (int s = 0; s < windows.size(); s++) {
            Map<String, double[][]> pruned = ref.streams(windows.get(s), blocks - 1);
            for (int k = 0; k <= blocks; k++) {
                streams.get(s).put("residual/" + k, pruned.get("residual/" + k));
            }
        }
        return new Result(rows, masks, streams);
    }

    /**
     * The scaler_rows of the taps named in {@code keys} (every tap up to {@code lastBlock} when null)
     * on the model as {@code ref} holds it: sum over every token of x^2 / nsamples, in double, rounded
     * to float32 once; one forward per window.
     */
    static Map<String, float[]> scalerRows(ReferenceLlama ref, List<int[]> windows, int lastBlock,
                                           java.util.Collection<String> keys) {
        Map<String, double[]> sums = new LinkedHashMap<>();
        for (int[] ids : windows) {
            for (Map.Entry<String, double[][]> tap : ref.taps(ids, lastBlock).entrySet()) {
                if (keys != null && !keys.contains(tap.getKey())) {
                    continue;
                }
                double[] sum = sums.computeIfAbsent(tap.getKey(), k -> new double[tap.getValue()[0].length]);
                for (double[] token : tap.getValue()) {
                    for (int j = 0; j < token.length; j++) {
                        double v = (float) token[j];
                        sum[j] += v * v;
                    }
                }
            }
        }
        Map<String, float[]> rows = new LinkedHashMap<>();
        sums.forEach((k, sum) -> {
            float[] row = new float[sum.length];
            for (int j = 0; j < row.length; j++) {
                row[j] = (float) (sum[j] / windows.size());
            }
            rows.put(k, row);
        });
        return rows;
    }

    /** In every group of m consecutive columns of a row the n smallest metrics, ties to the lower column. */
    static boolean[][] nOfM(float[] w, int out, int in, float[] scalerRow, int n, int m) {
        boolean[][] mask = new boolean[out][in];
        for (int i = 0; i < out; i++) {
            for (int g = 0; g < in; g += m) {
                List<Integer> cols = new ArrayList<>();
                float[] metric = new float[in];
                for (int j = g; j < g + m; j++) {
                    metric[j] = Math.abs(w[i * in + j]) * (float) Math.sqrt(scalerRow[j]);
                    cols.add(j);
                }
                cols.sort(Comparator.comparingDouble(j -> metric[j]));
                for (int k = 0; k < n; k++) {
                    mask[i][cols.get(k)] = true;
                }
            }
        }
        return mask;
    }

    /** Per row the floor(in * s) smallest float32 |W| * sqrt(scaler_row), ties to the lower column (stable sort). */
    static boolean[][] mask(float[] w, int out, int in, float[] scalerRow, double sparsity) {
        boolean[][] mask = new boolean[out][in];
        int prune = (int) (in * sparsity);
        for (int i = 0; i < out; i++) {
            float[] metric = new float[in];
            List<Integer> cols = new ArrayList<>();
            for (int j = 0; j < in; j++) {
                metric[j] = Math.abs(w[i * in + j]) * (float) Math.sqrt(scalerRow[j]);
                cols.add(j);
            }
            cols.sort(Comparator.comparingDouble(j -> metric[j]));   // List.sort is stable
            for (int k = 0; k < prune; k++) {
                mask[i][cols.get(k)] = true;
            }
        }
        return mask;
    }
}
