package io.layerscope.spark;

import java.io.PrintStream;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.apache.spark.util.LongAccumulator;
import scala.Tuple4;
import scala.collection.Iterator;

/**
 * Progress a person can follow for one stage: "calibration: 40/128 samples, 5120 tokens/s". Tasks add
 * to a {@link LongAccumulator} as they go; running tasks' values arrive with executor heartbeats and
 * finished tasks' with their end event, so the count moves during long tasks, not only between them.
 * Lines go to stderr, at most one every two seconds, plus a summary from {@link #finish()}.
 */
public final class StageProgress extends SparkListener {
    private final String label;
    private final String unit;
    private final long total;
    private final LongAccumulator units;
    private final LongAccumulator tokens;
    private final PrintStream err;
    private final Map<Long, long[]> running = new ConcurrentHashMap<>();
    private final long startNanos = System.nanoTime();
    private final Set<Integer> ownStages = ConcurrentHashMap.newKeySet();
    private volatile String jobDescription;
    private final long startMillis = System.currentTimeMillis();
    private long firstLaunchMillis;
    private long doneUnits;
    private long doneTokens;
    private long lastPrint;
    private boolean finished;
    /** Whether {@link #noExecutorHint} was printed: once per stage. */
    private boolean hinted;
    /** Seconds without a registered executor before the hint. */
    static final double NO_EXECUTOR_SECONDS = 60;

    /**
     * For a task that runs {@code shard} in one forward call: adds to {@code samples} and {@code tokens}
     * what each report of the windows done so far (from the first) adds to the one before.
     */
    static java.util.function.IntConsumer windowsDone(java.util.List<int[]> shard, LongAccumulator samples,
                                                      LongAccumulator tokens) {
        int[] reported = {0};
        return done -> {
            samples.add(done - reported[0]);
            tokens.add(shard.subList(reported[0], done).stream().mapToLong(w -> w.length).sum());
            reported[0] = done;
        };
    }

    public StageProgress(String label, String unit, long total, LongAccumulator units, LongAccumulator tokens, PrintStream err) {
        this.label = label;
        this.unit = unit;
        this.total = total;
        this.units = units;
        this.tokens = tokens;
        this.err = err;
    }

    @Override
    public void onExecutorMetricsUpdate(SparkListenerExecutorMetricsUpdate update) {
        Iterator<Tuple4<Object, Object, Object, scala.collection.immutable.Seq<AccumulableInfo>>> it = update.accumUpdates().iterator();
        while (it.hasNext()) {
            Tuple4<Object, Object, Object, scala.collection.immutable.Seq<AccumulableInfo>> t = it.next();
            long[] v = values(t._4());
            if (v[0] > 0 || v[1] > 0) {
                running.put((Long) t._1(), v);
            }
        }
        maybePrint();
    }

    /** Sets the description of the job to follow (its tasks are the ones {@link #secondsBeforeFirstTask} watches). */
    public void follow(JavaSparkContext jsc, String description) {
        jobDescription = description;
        jsc.setJobDescription(description);
    }

    @Override
    public void onJobStart(SparkListenerJobStart job) {
        String description = job.properties() == null ? null : job.properties().getProperty("spark.job.description");
        if (description != null && description.equals(jobDescription)) {
            for (Object id : scala.jdk.javaapi.CollectionConverters.asJava(job.stageIds())) {
                ownStages.add((Integer) id);
            }
        }
    }

    /**
     * Seconds from this object's creation (just before the job is submitted) to the launch of the
     * followed job's first task: time the job sat queued behind other jobs, such as the executors'
     * warm-up.
     */
    public synchronized double secondsBeforeFirstTask() {
        return firstLaunchMillis == 0 ? 0 : Math.max(0, firstLaunchMillis - startMillis) / 1e3;
    }

    @Override
    public void onTaskStart(SparkListenerTaskStart start) {
        if (ownStages.contains(start.stageId())) {
            synchronized (this) {
                long launch = start.taskInfo().launchTime();
                firstLaunchMillis = firstLaunchMillis == 0 ? launch : Math.min(firstLaunchMillis, launch);
            }
        }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
        long[] v = values(end.taskInfo().accumulables());
        running.remove(end.taskInfo().taskId());
        if (end.taskInfo().successful()) {
            synchronized (this) {
                doneUnits += v[0];
                doneTokens += v[1];
            }
        }
        maybePrint();
    }

    private long[] values(scala.collection.Seq<AccumulableInfo> infos) {
        long[] v = new long[2];
        Iterator<AccumulableInfo> it = infos.iterator();
        while (it.hasNext()) {
            AccumulableInfo a = it.next();
            Object update = a.update().isDefined() ? a.update().get() : null;
            if (!(update instanceof Number n)) {
                continue;
            }
            if (a.id() == units.id()) {
                v[0] = n.longValue();
            } else if (tokens != null && a.id() == tokens.id()) {
                v[1] = n.longValue();
            }
        }
        return v;
    }

    private synchronized void maybePrint() {
        long now = System.nanoTime();
        // the listener bus delivers events after the job's end too: nothing may follow the summary
        if (finished || now - lastPrint < 2_000_000_000L) {
            return;
        }
        long u = doneUnits;
        long tok = doneTokens;
        for (long[] v : running.values()) {
            u += v[0];
            tok += v[1];
        }
        if (u >= total && now - Math.max(lastPrint, startNanos) < 10_000_000_000L) {
            // all counted: the summary usually follows with the same figures; a last task still finishing
            // (a large result on its way, a retry) still gets a line now and then
            return;
        }
        lastPrint = now;
        double seconds = (now - startNanos) / 1e9;
        err.println(line(Math.min(u, total), tok, seconds));
        if (!hinted) {
            noExecutorHint(label, seconds, Setbacks.registered()).ifPresent(h -> {
                hinted = true;
                err.println(h);
            });
        }
    }

    /**
     * What to check when no executor has registered after {@link #NO_EXECUTOR_SECONDS} ({@code registered}
     * -1: not known), else empty. Spark's own word for it, "Initial job has not accepted any resources",
     * names no cause.
     */
    static java.util.Optional<String> noExecutorHint(String label, double seconds, int registered) {
        if (registered != 0 || seconds < NO_EXECUTOR_SECONDS) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(String.format(java.util.Locale.ROOT, "%s: no executor has registered in %.0f s;"
                + " the job waits for one: check that a Worker (or the cluster manager) can give an executor"
                + " --executor-memory and --executor-cores, and that executors start (a Worker's work directory"
                + " holds their stderr)", label, seconds));
    }

    private String line(long u, long tok, double seconds) {
        StringBuilder b = new StringBuilder(label).append(": ").append(u).append('/').append(total).append(' ').append(unit);
        if (tokens != null && seconds > 0) {
            b.append(String.format(", %.0f tokens/s", tok / seconds));
        }
        return b.append(String.format(", %.1f s", seconds)).toString();
    }

    /** Prints the stage summary line and returns the elapsed seconds. */
    public synchronized double finish() {
        finished = true;
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        err.println(line(total, tokens == null ? 0 : tokens.value(), seconds) + " (done)");
        return seconds;
    }
}
