package io.layerscope.stats;

/**
 * A layer's weight, [out, in] row-major float32, handed out a run of rows at a time: from an array
 * in memory ({@link #of}), or read from the checkpoint as each pass reaches the rows (widened from
 * bf16 or f16 then), so that a layer's statistics need no full-size float32 copy of it.
 *
 * <pre>{@code
 * WeightRows weight = WeightRows.of(w, out, in);
 * WeightRows.Run run = weight.rows(from, to);
 * float first = run.values()[run.offset()];            // entry [from, 0]
 * float e = run.values()[run.offset() + (i - from) * in + j];   // entry [i, j], from <= i < to
 * }</pre>
 */
public interface WeightRows {
    /** Rows: the layer's out_features. */
    int out();

    /** Entries per row: the layer's in_features. */
    int in();

    /**
     * Rows {@code [from, to)}: row i at {@code offset + (i - from) * in} of the run's array. The array
     * may be scratch of the calling thread that its next call overwrites; callers only read it.
     */
    Run rows(int from, int to);

    /** Rows of a weight; {@code values} holds them from {@code offset} on. */
    record Run(float[] values, int offset) {
    }

    /**
     * The first out x in entries of {@code w}, [out, in] row-major, without a copy (a reused array may
     * be longer than the weight).
     */
    static WeightRows of(float[] w, int out, int in) {
        if (out <= 0 || in <= 0 || (long) out * in > w.length) {
            throw new IllegalArgumentException("an array of " + w.length + " values holds no [" + out + ", " + in
                    + "] weight");
        }
        return new ArrayRows(w, out, in);
    }

    /** The first out x in entries of an array (see {@link #of}). */
    record ArrayRows(float[] values, int out, int in) implements WeightRows {
        @Override
        public Run rows(int from, int to) {
            return new Run(values, from * in);
        }
    }
}
