package io.layerscope.calibration;

import java.io.Serializable;
import java.util.Arrays;

/**
 * One calibration window, as Wanda's {@code get_c4} makes it: sample number, the document it was
 * cut from (index in file order), the start token inside that document's ids, and the
 * {@code seqlen} token ids {@code ids[start : start + seqlen]}. The array is shared, not copied:
 * do not modify it. Equality compares the token values.
 */
public record CalibrationSample(int sample, int doc, int start, int[] tokens) implements Serializable {

    public CalibrationSample {
        if (sample < 0 || doc < 0 || start < 0) {
            throw new IllegalArgumentException("sample, doc and start must be >= 0, got " + sample + ", " + doc + ", " + start);
        }
        if (tokens == null || tokens.length == 0) {
            throw new IllegalArgumentException("a calibration sample needs at least one token");
        }
    }

    /** Number of tokens (the sampling's seqlen). */
    public int length() {
        return tokens.length;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof CalibrationSample s && sample == s.sample && doc == s.doc && start == s.start
                && Arrays.equals(tokens, s.tokens);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * (31 * sample + doc) + start) + Arrays.hashCode(tokens);
    }

    @Override
    public String toString() {
        return "CalibrationSample[sample=" + sample + ", doc=" + doc + ", start=" + start + ", tokens=" + tokens.length
                + " ids starting " + Arrays.toString(Arrays.copyOf(tokens, Math.min(8, tokens.length))) + "]";
    }
}
