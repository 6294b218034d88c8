package io.layerscope.plot;


/**
 * How the activations of a picture were obtained, for its title.
 *
 * <pre>{@code
 * new CalibrationSummary("c4", 128, 2048, 0).describe();   // "c4, 128 × 2048 tokens, seed 0"
 * }</pre>
 *
 * @param source calibration data name ("c4", "demo", a file name); may be blank
 * @param nsamples number of calibration sequences
 * @param seqlen tokens per sequence
 * @param seed sampling seed
 */
public record CalibrationSummary(String source, int nsamples, int seqlen, long seed) {

    public CalibrationSummary {
        if (nsamples < 1 || seqlen < 1) {
            throw new IllegalArgumentException("calibration summary: nsamples " + nsamples + " and seqlen " + seqlen
                    + " must both be at least 1");
        }
        source = source == null ? "" : source.strip();
    }

    /** One line for the picture title, e.g. {@code "c4, 128 × 2048 tokens, seed 0"}. */
    public String describe() {
        String counts = nsamples + " \u00d7 " + seqlen + " tokens, seed " + seed;
        return source.isEmpty() ? counts : source + ", " + counts;
    }
}
