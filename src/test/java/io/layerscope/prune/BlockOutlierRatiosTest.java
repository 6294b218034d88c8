package io.layerscope.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.layerscope.model.Checkpoint;
import io.layerscope.model.DType;
import io.layerscope.model.PrunableLayer;
import io.layerscope.model.SyntheticLlama;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlockOutlierRatiosTest {
    @TempDir
    Path tmp;

    @Test
    void theBlocksSevenMetricsConcatenatedAgainstPlainLoops() {
        Checkpoint ckpt = Checkpoint.open(SyntheticLlama.builder().hidden(32).intermediate(48).layers(2).heads(4).kvHeads(2)
                .headDim(8).vocab(64).dtype(DType.BF16).outlierFeatures(3, 17).seed(5).write(tmp.resolve("m")));
        SplittableRandom rnd = new SplittableRandom(3);
        Map<String, float[]> norms = new LinkedHashMap<>();
        for (PrunableLayer l : ckpt.prunableLayers()) {
            norms.computeIfAbsent(l.tapKey(), k -> {
                float[] n = new float[l.inFeatures()];
                for (int j = 0; j < n.length; j++) {
                    n[j] = (float) (j % 7 == 0 ? 20 * rnd.nextDouble() : rnd.nextDouble());
                }
                return n;
            });
        }
        double[] multipliers = {3, 5, 7, 2.5};
        for (int b = 0; b < 2; b++) {
            int block = b;
            List<PrunableLayer> layers = ckpt.prunableLayers().stream().filter(l -> l.block() == block).toList();
            BlockOutlierRatios.Result r = BlockOutlierRatios.compute(ckpt, b, layers, norms, multipliers);
            // the split the per-layer stage uses: the mean's pass, then each layer's weight read whole
            float[] thresholds = BlockOutlierRatios.thresholds(BlockOutlierRatios.mean(ckpt, layers, norms), multipliers);
            long[] counts = new long[multipliers.length];
            for (PrunableLayer l : layers) {
                BlockOutlierRatios.countAbove(ckpt.readFloats(l.weightTensor()), l.outFeatures(), l.inFeatures(),
                        norms.get(l.tapKey()), thresholds, counts);
            }
            BlockOutlierRatios.Result split = BlockOutlierRatios.result(b, counts, BlockOutlierRatios.entries(layers));
            // independent: every metric into one list, its mean, then the strict counts
            List<Float> all = new java.util.ArrayList<>();
            for (PrunableLayer l : layers) {
                float[] w = ckpt.readFloats(l.weightTensor());
                float[] n = norms.get(l.tapKey());
                for (int k = 0; k < w.length; k++) {
                    all.add(Math.abs(w[k]) * n[k % l.inFeatures()]);
                }
            }
            double sum = 0;
            for (float v : all) {
                sum += v;
            }
            float mean = (float) (sum / all.size());
            for (int m = 0; m < multipliers.length; m++) {
                float threshold = mean * (float) multipliers[m];
                long above = all.stream().filter(v -> v > threshold).count();
                assertEquals(100.0 * above / all.size(), r.percent()[m], 1e-12, "block " + b + " M " + multipliers[m]);
                assertEquals(threshold, thresholds[m], "block " + b + " M " + multipliers[m]);
                assertEquals(r.percent()[m], split.percent()[m], "block " + b + " M " + multipliers[m]);
            }
            assertEquals(b, r.block());
            assertEquals(b, split.block());
        }
    }

    /** The bit-pattern count equals the float comparison for every kind of value and threshold. */
    @Test
    void countingAboveByBitsEqualsComparingFloats() {
        float[] special = {0f, -0f, Float.MIN_VALUE, 1f, 5f, Math.nextUp(5f), Math.nextDown(5f), Float.MAX_VALUE,
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, Float.intBitsToFloat(0xffc00000),
            Float.intBitsToFloat(0x7f800001), -1f, -Float.MIN_VALUE};
        SplittableRandom rnd = new SplittableRandom(3);
        int[] bits = new int[4096];
        for (int k = 0; k < bits.length; k++) {
            bits[k] = k < special.length ? Float.floatToRawIntBits(special[k]) : rnd.nextInt();
        }
        for (float t : new float[] {0f, -0f, Float.MIN_VALUE, 5f, Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NaN,
            -1f, Float.NEGATIVE_INFINITY}) {
            for (int n : new int[] {0, 1, special.length, bits.length}) {
                long expected = 0;
                for (int k = 0; k < n; k++) {
                    if (Float.intBitsToFloat(bits[k]) > t) {
                        expected++;
                    }
                }
                assertEquals(expected, BlockOutlierRatios.countAbove(bits, n, t), "t=" + t + " n=" + n);
            }
        }
    }
}
