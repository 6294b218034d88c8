package io.layerscope.stats;

import io.layerscope.model.Tap;
import java.io.Serializable;
import java.util.EnumMap;
import java.util.Map;

/**
 * For one batch of calibration sequences, per tap kind, the (sequence, token, channel) positions
 * where |x| >= 6 in at least one block seen so far: what the LLM.int8 position share needs when the
 * blocks are run one round at a time (sequential mode), carried from round to round beside the
 * batch's hidden states. One bit per position.
 *
 * <pre>{@code
 * OutlierPositions marks = new OutlierPositions();
 * marks.mark(Tap.MLP_ACT, words, entries, features);   // entry (s * tokens + t) * features + c: bit k % 32 of words[k / 32]
 * long[] positions = marks.positions(Tap.MLP_ACT);  // per channel, positions marked in any block
 * }</pre>
 *
 * Not thread-safe; plain Java so Spark can ship it.
 */
public final class OutlierPositions implements Serializable {
    private static final long serialVersionUID = 1L;
    private final EnumMap<Tap, long[]> bits = new EnumMap<>(Tap.class);
    private final EnumMap<Tap, Integer> widths = new EnumMap<>(Tap.class);

    /** An independent copy. */
    public OutlierPositions copy() {
        OutlierPositions c = new OutlierPositions();
        bits.forEach((tap, b) -> c.bits.put(tap, b.clone()));
        c.widths.putAll(widths);
        return c;
    }

    /**
     * Marks the entries set in {@code words}: {@code entries} entries, row-major [positions,
     * features], entry k as bit k % 32 of word k / 32 (as a tap's per-block marks are packed).
     */
    public void mark(Tap tap, int[] words, int entries, int features) {
        if (entries % features != 0) {
            throw new IllegalArgumentException(entries + " entries are not whole rows of " + features);
        }
        if (words.length != (entries + 31) >>> 5) {
            throw new IllegalArgumentException(entries + " entries take " + ((entries + 31) >>> 5) + " words of 32, not "
                    + words.length);
        }
        long[] b = bits.computeIfAbsent(tap, t -> new long[(entries + 63) >>> 6]);
        Integer had = widths.putIfAbsent(tap, features);
        if ((had != null && had != features) || b.length != (entries + 63) >>> 6) {
            throw new IllegalArgumentException("the " + tap + " positions of one batch changed shape");
        }
        for (int w = 0; w < words.length; w++) {
            b[w >>> 1] |= (words[w] & 0xffffffffL) << ((w & 1) << 5);
        }
    }

    /** Per channel of {@code tap}, the positions marked (empty when the tap was never seen). */
    public long[] positions(Tap tap) {
        long[] b = bits.get(tap);
        if (b == null) {
            return new long[0];
        }
        int features = widths.get(tap);
        long[] counts = new long[features];
        for (int w = 0; w < b.length; w++) {
            long word = b[w];
            while (word != 0) {
                int i = (w << 6) + Long.numberOfTrailingZeros(word);
                counts[i % features]++;
                word &= word - 1;
            }
        }
        return counts;
    }

    /** Adds every tap kind's counts to {@code sums} as positions reaching |x| >= 6 in some block. */
    public void addTo(DepthSums sums) {
        for (Map.Entry<Tap, long[]> e : bits.entrySet()) {
            sums.outlierAnyBlock(e.getKey(), positions(e.getKey()));
        }
    }
}
