package io.layerscope.stats;

import io.layerscope.model.Tap;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InvalidObjectException;
import java.io.ObjectInputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.EnumMap;
import java.util.Map;
import org.roaringbitmap.RoaringBitmap;
import org.roaringbitmap.RoaringBitmapWriter;

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
 * Not thread-safe; plain Java so Spark can ship it. Spark stores it beside every batch's states
 * in each round ({@link Stored}): sparse marks, as a real model's few outlier channels make, go as a
 * Roaring bitmap of the marked entries (2 bytes each), dense ones as the bits themselves.
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

    private Object writeReplace() {
        return new Stored(this);
    }

    private void readObject(ObjectInputStream in) throws InvalidObjectException {
        throw new InvalidObjectException("OutlierPositions is stored through OutlierPositions.Stored");
    }

    /**
     * The marks as serialised: per tap kind its width, its word count and either its words or, when
     * fewer than one entry in 16 is marked (a Roaring array container takes 16 bits an entry), a
     * run-optimised Roaring bitmap of the marked entries.
     */
    private static final class Stored implements Serializable {
        private static final long serialVersionUID = 1L;
        private final EnumMap<Tap, Integer> widths;
        private final EnumMap<Tap, Integer> lengths = new EnumMap<>(Tap.class);
        private final EnumMap<Tap, long[]> dense = new EnumMap<>(Tap.class);
        private final EnumMap<Tap, byte[]> sparse = new EnumMap<>(Tap.class);

        Stored(OutlierPositions p) {
            widths = new EnumMap<>(p.widths);
            p.bits.forEach((tap, b) -> {
                lengths.put(tap, b.length);
                long marked = 0;
                for (long word : b) {
                    marked += Long.bitCount(word);
                }
                if (marked * 16 < (long) b.length * 64) {
                    sparse.put(tap, roaring(b));
                } else {
                    dense.put(tap, b);
                }
            });
        }

        private static byte[] roaring(long[] b) {
            RoaringBitmapWriter<RoaringBitmap> writer = RoaringBitmapWriter.writer().get();
            for (int w = 0; w < b.length; w++) {
                for (long word = b[w]; word != 0; word &= word - 1) {
                    writer.add((w << 6) + Long.numberOfTrailingZeros(word));
                }
            }
            RoaringBitmap r = writer.get();
            r.runOptimize();
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(r.serializedSizeInBytes());
            try (DataOutputStream out = new DataOutputStream(bytes)) {
                r.serialize(out);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return bytes.toByteArray();
        }

        private Object readResolve() throws InvalidObjectException {
            OutlierPositions p = new OutlierPositions();
            p.widths.putAll(widths);
            for (Map.Entry<Tap, Integer> e : lengths.entrySet()) {
                long[] b = dense.get(e.getKey());
                if (b == null) {
                    b = new long[e.getValue()];
                    RoaringBitmap r = new RoaringBitmap();
                    try {
                        r.deserialize(new DataInputStream(new ByteArrayInputStream(sparse.get(e.getKey()))));
                    } catch (IOException | RuntimeException x) {
                        throw (InvalidObjectException) new InvalidObjectException("damaged outlier marks of "
                                + e.getKey()).initCause(x);
                    }
                    for (org.roaringbitmap.IntIterator i = r.getIntIterator(); i.hasNext(); ) {
                        int k = i.next();
                        b[k >>> 6] |= 1L << k;
                    }
                }
                p.bits.put(e.getKey(), b);
            }
            return p;
        }
    }

    /** Adds every tap kind's counts to {@code sums} as positions reaching |x| >= 6 in some block. */
    public void addTo(DepthSums sums) {
        for (Map.Entry<Tap, long[]> e : bits.entrySet()) {
            sums.outlierAnyBlock(e.getKey(), positions(e.getKey()));
        }
    }
}
