package io.layerscope.spark;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Spark's job failures quote what went wrong on an executor in a message somewhere in the causes. */
final class CauseMessages {
    private CauseMessages() {
    }

    /** The first match of {@code pattern} in the message of {@code e} or of one of its causes, or null. */
    static Matcher find(Throwable e, Pattern pattern) {
        for (Throwable t : io.layerscope.Failures.causes(e)) {
            Matcher m = t.getMessage() == null ? null : pattern.matcher(t.getMessage());
            if (m != null && m.find()) {
                return m;
            }
        }
        return null;
    }
}
