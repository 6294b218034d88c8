package io.layerscope.spark;

import io.layerscope.LayerscopeException;
import org.apache.spark.SparkConf;

/**
 * A {@code spark.layerscope.*} setting that is a whole number, read from the job's SparkConf: a value
 * that is not one, or is below its least, is refused with what the setting counts, before any stage
 * runs (a bad setting found inside a task would cost the stages before it).
 */
final class WholeNumberSetting {
    private WholeNumberSetting() {
    }

    /**
     * {@code key}'s value in {@code conf}, else {@code otherwise}; refused unless a whole number of at
     * least {@code least}, with "KEY=VALUE is not a number of {@code counts}; use a whole number
     * {@code advice}".
     */
    static int read(SparkConf conf, String key, int otherwise, int least, String counts, String advice) {
        String value = conf.get(key, String.valueOf(otherwise)).trim();
        try {
            int n = Integer.parseInt(value);
            if (n >= least) {
                return n;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new LayerscopeException(key + "=" + value + " is not a number of " + counts + "; use a whole number "
                + advice);
    }
}
