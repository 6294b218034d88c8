package io.layerscope.spark;

import io.layerscope.LayerscopeException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A job whose executors YARN or Kubernetes killed for using more memory than their containers were
 * given, told as what to change. libtorch's memory lies outside the Java heap, where the containers
 * count it against {@code spark.executor.memoryOverhead}, whose default (10% of the executor memory)
 * is far below what a sweep needs per core (docs/CLUSTER.md). Spark reports it as a job aborted once
 * the lost executors' tasks have failed as often as spark.task.maxFailures allows; executors killed
 * between tasks fail none, and the job ends when Spark gives up replacing them and stops its context,
 * which the reasons {@link Setbacks} kept then tell.
 */
public final class ContainerMemoryLimit {
    // Spark 4.2's YarnAllocator: "Container killed by YARN for exceeding physical memory limits. 1.5 GB of
    // 1.4 GB physical memory used. Consider boosting spark.executor.memoryOverhead." (virtual alike);
    // ExecutorPodsLifecycleManager: "The executor with id 3 exited with exit code 137(SIGKILL, possible
    // container OOM)." and, among the pod's container statuses, "termination reason: OOMKilled"
    private static final Pattern YARN = Pattern.compile(
            "Container killed by YARN for exceeding (physical|virtual) memory limits\\."
                    + "( [0-9.]+ [KMGTP]?B of [0-9.]+ [KMGTP]?B (?:physical|virtual) memory used\\.)?");
    private static final Pattern KUBERNETES = Pattern.compile(
            "exited with exit code 137\\(SIGKILL, possible container OOM\\)[\\s\\S]*?termination reason: OOMKilled");

    /** Spark's words for a job ended by its context stopping under it. */
    private static final Pattern CONTEXT_STOPPED = Pattern.compile(
            "SparkContext (?:was|has been) shut ?down|stopped SparkContext");

    private ContainerMemoryLimit() {
    }

    /**
     * The user error for {@code e} or one of its causes, or, where {@code e} says only that Spark stopped
     * its context, for the executors lost before; null when no container ran out of memory.
     */
    public static LayerscopeException explain(Throwable e) {
        LayerscopeException told = explain(e, m -> CauseMessages.find(e, m), "");
        if (told == null && CauseMessages.find(e, CONTEXT_STOPPED) != null) {
            told = explainExecutorLosses(e);
        }
        return told;
    }

    /**
     * For {@code e}, a job or a start ended by Spark stopping its context: the user error when an executor
     * lost before was killed for its memory, else null.
     */
    static LayerscopeException explainExecutorLosses(Throwable e) {
        try {
            Setbacks.awaitDelivered(5_000);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
        }
        String latest = Setbacks.lastMemoryKill().orElse(null);
        if (latest == null) {
            return null;
        }
        int kills = Setbacks.memoryKills();
        return explain(e, p -> {
            Matcher m = p.matcher(latest);
            return m.find() ? m : null;
        }, "Spark stopped after losing executors (memory kills: " + kills + "): ");
    }

    /** Whether a lost executor's {@code reason} is its container's memory limit. */
    static boolean isMemoryKill(String reason) {
        return YARN.matcher(reason).find() || KUBERNETES.matcher(reason).find();
    }

    private static LayerscopeException explain(Throwable e, java.util.function.Function<Pattern, Matcher> find,
                                               String context) {
        Matcher yarn = find.apply(YARN);
        String what;
        String virtual = "";
        if (yarn != null) {
            what = "YARN killed executors for exceeding their containers' " + yarn.group(1) + " memory"
                    + (yarn.group(2) == null ? "" : " (" + yarn.group(2).trim().replaceAll("\\.$", "") + ")");
            if (yarn.group(1).equals("virtual")) {
                virtual = "; or have the cluster's administrator disable yarn.nodemanager.vmem-check-enabled"
                        + " (YARN-4714: a JVM reserves far more virtual memory than it uses)";
            }
        } else if (find.apply(KUBERNETES) != null) {
            what = "Kubernetes killed executor pods for exceeding their memory limit (OOMKilled)";
        } else {
            return null;
        }
        return new LayerscopeException(context + what + ": libtorch's memory lies outside the Java heap and counts against"
                + " spark.executor.memoryOverhead, whose default (10% of --executor-memory, at least 384m) is far"
                + " below what a sweep needs, about 1.5g per executor core (2.5-4g in --mode sequential;"
                + " docs/CLUSTER.md, executor memory). Raise it, e.g. --conf spark.executor.memoryOverhead=12g for"
                + " executors of 8 cores" + virtual, e);
    }
}
