package io.layerscope.cli;

import io.layerscope.LayerscopeException;

/**
 * A command that outgrew a limit of the driver's JVM other than its heap: the thread's stack (a SQL
 * statement nested thousands deep makes Spark's parser and optimiser recurse past it) or the
 * longest Java array (a value or a file of 2 GiB or more held at once). Said as what to change,
 * where the JVM's own error escaped as a stack trace.
 */
final class DriverLimits {
    private DriverLimits() {
    }

    /** A query's statement nested too deeply for the stack of Spark's parser and optimiser. */
    static LayerscopeException stackOverflow(StackOverflowError e, String command) {
        return new LayerscopeException(command + " ran out of the driver thread's stack (the JVM's StackOverflowError),"
                + " as a statement or expression nested thousands deep makes it; simplify it, or give the driver a larger"
                + " stack: --driver-java-options -Xss64m", where(e));
    }

    /** Whether {@code e} is the JVM refusing an array past its longest, not the heap running out. */
    static boolean isArraySize(OutOfMemoryError e) {
        String m = String.valueOf(e.getMessage());
        return m.startsWith("Requested array size exceeds VM limit") || m.matches("Required array (size|length) .*too large.*");
    }

    static LayerscopeException arrayTooLarge(OutOfMemoryError e, String command) {
        return new LayerscopeException(command + " needed one value larger than a Java array can hold, 2 GiB (the JVM"
                + " said: " + e.getMessage() + "); a larger heap does not help: make the value or file smaller", where(e));
    }

    /** The error's frames (for --verbose) on an exception: an Error down a cause chain reads as fatal to Spark. */
    private static RuntimeException where(Error e) {
        RuntimeException trace = new RuntimeException(e.toString());
        trace.setStackTrace(e.getStackTrace());
        return trace;
    }
}
