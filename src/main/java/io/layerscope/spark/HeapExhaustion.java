package io.layerscope.spark;

import io.layerscope.LayerscopeException;
import java.util.function.Supplier;
import org.apache.spark.SparkEnv;

/**
 * A task whose executor ran out of Java heap, told as what to change. Left alone, the error reaches
 * Spark's handler for fatal errors, which ends the executor's JVM (status 52; also when the error is
 * only a cause of what the task threw, hence no cause of that type here): in local mode that is
 * the whole job, reported as an interruption, and on a cluster a lost executor whose reason names an
 * exit code. Caught in the task it fails the task like any error, and the driver prints the message.
 * The heap recovers once the task's stack is gone, since what filled it was the task's own arrays.
 *
 * <pre>{@code
 * return HeapExhaustion.guard(() -> "stage two, layer " + name, () -> analyse(layer));
 * }</pre>
 */
public final class HeapExhaustion {
    private HeapExhaustion() {
    }

    /** {@code work}'s result; the heap running out in it as a {@link LayerscopeException} naming {@code doing}. */
    static <T> T guard(Supplier<String> doing, Supplier<T> work) {
        try {
            return work.get();
        } catch (OutOfMemoryError e) {
            throw explain(e, doing.get());
        }
    }

    /**
     * The user error for {@code e}, when it is the heap that ran out; any other kind (metaspace,
     * direct buffers, native threads, an array past the VM's limit) is rethrown as it is, since more
     * heap would not help.
     */
    static LayerscopeException explain(OutOfMemoryError e, String doing) {
        long mib = heapMiB(e);
        // no SparkEnv: no Spark job started, so this is the driver's JVM too
        boolean local = SparkEnv.get() == null || HeldValues.inDriverJvm();
        String remedy = local
                ? "give the driver more heap (local mode runs the tasks in the driver's JVM): --driver-memory, e.g."
                        + " --driver-memory " + suggested(mib) + ", or run fewer tasks at once (--master local[N])"
                : "give the executors more heap (--executor-memory, e.g. --executor-memory " + suggested(mib)
                        + "), or run fewer tasks at once on each (--executor-cores)";
        return new LayerscopeException("the Java heap (" + mib + " MiB) ran out in " + doing + "; " + remedy
                + "; docs/CLUSTER.md (executor memory) says what a model needs", where(e));
    }

    /**
     * As {@link #explain} for the driver's own work (collecting and writing results, the command's
     * thread), which an error of this kind would otherwise end with a stack trace.
     */
    public static LayerscopeException onDriver(OutOfMemoryError e, String command) {
        long mib = heapMiB(e);
        return new LayerscopeException("the driver's Java heap (" + mib + " MiB) ran out in " + command
                + "; give the driver more heap: --driver-memory, e.g. --driver-memory " + suggested(mib), where(e));
    }

    /** Whether {@code e} says the heap ran out (not metaspace, direct buffers, threads or an oversized array). */
    public static boolean isHeap(OutOfMemoryError e) {
        String message = String.valueOf(e.getMessage());
        return message.startsWith("Java heap space") || message.startsWith("GC overhead limit exceeded");
    }

    /** The heap's size, when {@code e} says the heap ran out; otherwise {@code e} itself is thrown. */
    private static long heapMiB(OutOfMemoryError e) {
        if (!isHeap(e)) {
            throw e;
        }
        return Runtime.getRuntime().maxMemory() >> 20;
    }

    /**
     * The error's stack trace (for --verbose) on an exception that is not an Error: Spark looks for
     * fatal errors down a failed task's chain of causes, and would end the JVM for the original.
     */
    private static RuntimeException where(OutOfMemoryError e) {
        RuntimeException trace = new RuntimeException(e.toString());
        trace.setStackTrace(e.getStackTrace());
        return trace;
    }

    /** Twice the heap, in whole GiB: a starting point, not a measurement. */
    private static String suggested(long mib) {
        return Math.max(1, (2 * mib + 1023) / 1024) + "g";
    }
}
