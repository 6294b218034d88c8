package io.layerscope.spark;

import io.layerscope.LayerscopeException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;

/**
 * The executor JVM's one pool for the statistics of big layers in stage two: as many threads as
 * the executor has cores, daemon threads named {@code layerscope-stats-N}, made on first use and
 * shared by every task of the JVM.
 *
 * <p>The executor's cores: in local mode the N of {@code local[N]} ({@code local[*]}: all
 * available processors), {@code local} 1, {@code local-cluster[W,C,M]} C; otherwise
 * {@code spark.executor.cores} when set, else Spark's default for the master: 1 on YARN and
 * Kubernetes, {@link Runtime#availableProcessors()} elsewhere.
 *
 * <pre>{@code
 * if (StatisticsThreads.worthAPool(out, in)) {
 *     stats = LayerStatistics.compute(name, w, out, in, scalerRow, StatisticsThreads.pool());
 * }
 * }</pre>
 */
final class StatisticsThreads {
    /**
     * Layers of at least this many weight entries (2048 x 2048, Llama-3.2-1B's q_proj) use the pool;
     * smaller ones are many, and already run in parallel as tasks of their own.
     */
    static final long POOL_FROM_ENTRIES = 4L << 20;

    // Spark's own forms of the local masters (SparkContext's LOCAL_*_REGEX)
    private static final Pattern LOCAL_N = Pattern.compile("local\\[([0-9]+|\\*)(\\s*,\\s*[0-9]+)?\\]");
    private static final Pattern LOCAL_CLUSTER = Pattern.compile(
            "local-cluster\\[\\s*[0-9]+\\s*,\\s*([0-9]+)\\s*,\\s*[0-9]+\\s*]");
    private static final AtomicInteger THREADS_MADE = new AtomicInteger();

    private static ForkJoinPool pool;

    private StatisticsThreads() {
    }

    /** Whether a layer of {@code out} x {@code in} weights is big enough for the pool. */
    static boolean worthAPool(int out, int in) {
        return (long) out * in >= POOL_FROM_ENTRIES;
    }

    /** The pool, sized from the running Spark environment (none: all available processors). */
    static synchronized ForkJoinPool pool() {
        if (pool == null) {
            SparkEnv env = SparkEnv.get();
            int available = Runtime.getRuntime().availableProcessors();
            int cores = env == null ? available : executorCores(env.conf(), available);
            pool = newPool(cores);
        }
        return pool;
    }

    static int executorCores(SparkConf conf, int available) {
        return executorCores(conf.get("spark.master", ""), conf.get("spark.executor.cores", null), available);
    }

    /**
     * @param master        spark.master
     * @param executorCores spark.executor.cores, or null if not set
     * @param available     the processors this JVM sees
     */
    static int executorCores(String master, String executorCores, int available) {
        String m = master.trim();
        if (m.equals("local")) {
            return 1;
        }
        Matcher local = LOCAL_N.matcher(m);
        if (local.matches()) {
            return local.group(1).equals("*") ? available : positive(local.group(1), "spark.master", master);
        }
        Matcher cluster = LOCAL_CLUSTER.matcher(m);
        if (cluster.matches()) {
            return positive(cluster.group(1), "spark.master", master);
        }
        if (executorCores != null) {
            return positive(executorCores.trim(), "spark.executor.cores", executorCores);
        }
        // Spark's own default: one core per executor on YARN and Kubernetes, whose containers may see every
        // processor of the node; a standalone executor takes all of its worker's cores.
        return m.equals("yarn") || m.startsWith("k8s://") ? 1 : available;
    }

    /** A pool of {@code threads} daemon threads named layerscope-stats-N. */
    static ForkJoinPool newPool(int threads) {
        return new ForkJoinPool(threads, StatisticsThreads::newThread, null, false);
    }

    private static ForkJoinWorkerThread newThread(ForkJoinPool pool) {
        ForkJoinWorkerThread thread = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
        thread.setName("layerscope-stats-" + THREADS_MADE.incrementAndGet());
        thread.setDaemon(true);
        return thread;
    }

    private static int positive(String digits, String option, String value) {
        int n;
        try {
            n = Integer.parseInt(digits);
        } catch (NumberFormatException e) {
            n = 0;
        }
        if (n <= 0) {
            throw new LayerscopeException(option + " is '" + value + "', which gives no positive number of executor"
                    + " cores for the layer statistics threads. Set " + option + " to a positive whole number"
                    + " (local[N] for spark.master).");
        }
        return n;
    }
}
