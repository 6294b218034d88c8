package io.layerscope.spark;

import io.layerscope.LayerscopeException;
import java.util.regex.Pattern;

/**
 * A job Spark failed because a disk filled under it, told as what to change. layerscope's own files
 * (results, pruned model, caches) say so where they are written; what reaches here is mostly
 * Spark's scratch space: shuffle data, and in --mode sequential the batches' hidden states between
 * rounds, which reach gigabytes at real sizes (docs/PRUNING.md), in the executors' local directories
 * (or a place a query's statement writes to, which the message leaves to its first sentence).
 */
public final class ScratchDiskFull {
    private static final Pattern NO_SPACE = Pattern.compile("No space left on device");

    private ScratchDiskFull() {
    }

    /** The user error for {@code e} or one of its causes, or null when no disk was full. */
    public static LayerscopeException explain(Throwable e) {
        if (CauseMessages.find(e, NO_SPACE) == null) {
            return null;
        }
        return new LayerscopeException("a disk filled while Spark ran the job (No space left on device). Spark's own"
                + " scratch (shuffle data, and in --mode sequential the hidden states between rounds, gigabytes at real"
                + " sizes) goes to its local directories (spark.local.dir, by default the temporary directory): free space"
                + " there or point them at a larger disk, e.g. --conf spark.local.dir=/scratch", e);
    }
}
