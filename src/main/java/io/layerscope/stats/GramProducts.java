package io.layerscope.stats;

/**
 * Quadratic forms v G v^T of one tap's Gram matrix G, many rows v at a time: the only operation the
 * output error of a mask needs, and the one worth a device (out x in x in multiply-adds per mask).
 */
public interface GramProducts {
    /** The side of G: the tap's input features. */
    int features();

    /** G[j, j]. */
    double diagonal(int j);

    /**
     * For r in 0..count-1, row r of {@code rows} (row-major, {@code count * features()} values from
     * index 0; the array may be longer) times G times its transpose.
     */
    double[] quadraticForms(double[] rows, int count);

    /** Plain Java loops over a row-major G: for tests and small layers, no device needed. */
    static GramProducts of(double[] g) {
        int in = GramSums.dimension("(matrix)", g);
        return new GramProducts() {
            @Override
            public int features() {
                return in;
            }

            @Override
            public double diagonal(int j) {
                return g[j * in + j];
            }

            @Override
            public double[] quadraticForms(double[] rows, int count) {
                double[] out = new double[count];
                for (int r = 0; r < count; r++) {
                    double total = 0;
                    for (int j = 0; j < in; j++) {
                        double vj = rows[r * in + j];
                        if (vj == 0) {
                            continue;
                        }
                        double dot = 0;
                        for (int k = 0; k < in; k++) {
                            dot += g[j * in + k] * rows[r * in + k];
                        }
                        total += vj * dot;
                    }
                    out[r] = total;
                }
                return out;
            }
        };
    }
}
