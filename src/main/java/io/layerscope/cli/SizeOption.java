package io.layerscope.cli;

import io.layerscope.LayerscopeException;
import org.apache.spark.network.util.JavaUtils;

/** An option that takes a size in bytes as Spark writes them (512m, 4g, 10g), so one spelling serves every option. */
final class SizeOption {
    private SizeOption() {
    }

    /**
     * The bytes {@code value} stands for; a value that is not a size, or is not more than 0, is refused
     * with the option's name and two examples of what it takes (e.g. {@code "4g"} and {@code "512m"}).
     */
    static long bytes(String option, String value, String example, String otherExample) {
        long bytes;
        try {
            bytes = JavaUtils.byteStringAsBytes(value.trim());
        } catch (RuntimeException e) {
            throw new LayerscopeException(option + " " + value + " is not a size; use e.g. " + option + " " + example
                    + " or " + option + " " + otherExample, e);
        }
        if (bytes <= 0) {
            throw new LayerscopeException(option + " " + value + " must be more than 0, e.g. " + option + " " + example);
        }
        return bytes;
    }
}
