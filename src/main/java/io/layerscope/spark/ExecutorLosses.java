package io.layerscope.spark;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerApplicationStart;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;

/**
 * Why the driver's executors were lost, kept for explaining a job that failed without saying. An
 * executor killed between tasks (a sweep's executor keeps the model loaded after its task) fails no
 * task: Spark replaces it until it gives up and stops its context, and the job only reports that the
 * context was shut down. Registered through spark.extraListeners ({@link SparkSessions}), so that
 * losses during the start are seen too; there is one driver per JVM, hence the static record.
 */
public final class ExecutorLosses extends SparkListener {
    /** The most recent reasons kept: a cluster replacing killed executors may lose many. */
    static final int KEPT = 16;
    private static final Deque<String> REASONS = new ArrayDeque<>();

    /** Spark makes one through spark.extraListeners. */
    public ExecutorLosses() {
    }

    @Override
    public void onApplicationStart(SparkListenerApplicationStart start) {
        synchronized (REASONS) {
            REASONS.clear();   // a new context in this JVM (tests) starts with none
        }
    }

    @Override
    public void onExecutorRemoved(SparkListenerExecutorRemoved removed) {
        record(removed.reason());
    }

    /** Keeps {@code reason}, a lost executor's as Spark gives it. */
    public static void record(String reason) {
        if (reason == null) {
            return;
        }
        synchronized (REASONS) {
            if (REASONS.size() == KEPT) {
                REASONS.removeFirst();
            }
            REASONS.addLast(reason);
        }
    }

    /** The reasons recorded since this JVM's Spark application started, oldest first. */
    static List<String> reasons() {
        synchronized (REASONS) {
            return List.copyOf(REASONS);
        }
    }

    /** Forgets what was recorded (tests). */
    public static void clear() {
        synchronized (REASONS) {
            REASONS.clear();
        }
    }
}
