package io.layerscope.spark;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.SparkContext;
import org.apache.spark.TaskFailedReason;
import org.apache.spark.TaskKilled;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerApplicationEnd;
import org.apache.spark.scheduler.SparkListenerExecutorAdded;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import scala.Option;

/**
 * What Spark had to run again: the executors the driver lost and the task attempts that failed,
 * every one for run.json (a run that succeeded after retries says so), and the executors lost to a
 * container's memory limit for explaining a job that failed without saying. An executor killed
 * between tasks (a sweep's executor keeps the model loaded after its task) fails no task: Spark
 * replaces it until it gives up and stops its context, and the job only reports that the context was
 * shut down. Registered through spark.extraListeners ({@link SparkSessions}), so Spark makes one with
 * each context, before any executor starts; there is one driver per JVM, hence the static record,
 * which a new context's listener starts afresh.
 */
public final class Setbacks extends SparkListener {
    private static final Object LOCK = new Object();
    /** The latest loss {@link ContainerMemoryLimit} explains: kept apart from the others, however many follow. */
    private static String lastMemoryKill;
    private static int memoryKills;
    /** Whether a context with this listener is up and has not yet delivered its application's end. */
    private static boolean live;
    /** Every executor lost since this JVM's context started, "executor N on HOST: reason", in order. */
    private static final List<String> LOST = new ArrayList<>();
    private static final Map<String, String> HOSTS = new HashMap<>();
    /** Every task attempt that failed since this JVM's context started, "stage S task P attempt A on executor N: reason". */
    private static final List<String> FAILED = new ArrayList<>();
    /** Which context's record {@link #LOST} and {@link #FAILED} hold: a job's mark from another is void. */
    private static int context;
    /**
     * Executors lost in a row before they registered, while none ran ({@link #START_FAILURES} of them
     * end the jobs), the latest of them, and what the job's failure then says (null until then).
     */
    private static int startFailures;
    private static String lastStartFailure;
    private static String executorsNotStarting;
    /** How often start failures have cancelled the jobs since the context started (tests). */
    private static int cancellations;
    /** Executors that registered since the context started (local mode's one included). */
    private static int registered;
    /** Executors ever registered, and those counted as start failures: a second removal event of either is not one. */
    private static final java.util.Set<String> EVER_REGISTERED = new java.util.HashSet<>();
    private static final java.util.Set<String> COUNTED = new java.util.HashSet<>();
    /**
     * Whether start failures end the jobs: on a standalone master, whose relaunching has no end. YARN and
     * Kubernetes have limits of their own (spark.executor.maxNumFailures), and remove containers or pods
     * that never registered for reasons of their own (preemption, an allocation timeout).
     */
    private final boolean standalone;
    /** Start failures in a row that cancel the jobs (0: never). */
    private final int startFailureLimit;

    /**
     * The setting for how many executors may exit before they register, in a row, with none running,
     * before the jobs are cancelled: a standalone master launches new ones for ever (its own limit,
     * spark.deploy.maxExecutorRetries, waits for none to be running, and one just launched counts), each
     * leaving a directory on its Worker. 0: never cancel (a cluster where some Workers cannot start one).
     */
    static final String START_FAILURES = "spark.layerscope.executorStartFailures";
    /** Spark's default for its own limit. */
    static final int DEFAULT_START_FAILURES = 10;

    /** Spark makes one through spark.extraListeners, as its context starts (this constructor, given one). */
    public Setbacks(org.apache.spark.SparkConf conf) {
        this(conf.get("spark.master", "").startsWith("spark://") || conf.get("spark.master", "").startsWith("local-cluster"),
                startFailureLimitOrDefault(conf));
    }

    /** Tests': a listener as on a standalone master, with the default limit (Spark passes its conf). */
    public Setbacks() {
        this(true, DEFAULT_START_FAILURES);
    }

    private Setbacks(boolean standalone, int startFailureLimit) {
        this.standalone = standalone;
        this.startFailureLimit = startFailureLimit;
        synchronized (LOCK) {
            lastMemoryKill = null;
            memoryKills = 0;
            live = true;
            LOST.clear();
            HOSTS.clear();
            FAILED.clear();
            startFailures = 0;
            lastStartFailure = null;
            executorsNotStarting = null;
            cancellations = 0;
            registered = 0;
            EVER_REGISTERED.clear();
            COUNTED.clear();
            context++;
        }
    }

    @Override
    public void onExecutorAdded(SparkListenerExecutorAdded added) {
        synchronized (LOCK) {
            HOSTS.put(added.executorId(), added.executorInfo().executorHost());
            EVER_REGISTERED.add(added.executorId());
            registered++;
            startFailures = 0;
        }
    }

    @Override
    public void onExecutorRemoved(SparkListenerExecutorRemoved removed) {
        boolean cancel = false;
        synchronized (LOCK) {
            String host = HOSTS.remove(removed.executorId());
            if (!planned(removed.reason())) {
                LOST.add("executor " + removed.executorId() + (host == null ? "" : " on " + host) + ": " + removed.reason());
                if (standalone && host == null && HOSTS.isEmpty() && !EVER_REGISTERED.contains(removed.executorId())
                        && COUNTED.add(removed.executorId())) {
                    startFailures++;
                    lastStartFailure = "executor " + removed.executorId() + ": " + removed.reason();
                    // each one past the limit too: a job submitted since the last cancellation would wait for ever
                    if (startFailureLimit > 0 && startFailures >= startFailureLimit) {
                        if (executorsNotStarting == null) {   // said as it was when the limit was reached
                            executorsNotStarting = notStarting(startFailures, lastStartFailure, activeApplication());
                        }
                        cancel = true;
                        cancellations++;
                    }
                }
            }
        }
        record(removed.reason());
        if (cancel) {
            // the jobs would wait for ever; each one submitted later is cancelled by the next failure
            Option<SparkContext> active = org.apache.spark.SparkContext$.MODULE$.getActive();
            if (active.isDefined()) {
                active.get().cancelAllJobs();
            }
        }
    }

    /** How often start failures have cancelled the jobs since this JVM's context started. */
    static int cancellations() {
        synchronized (LOCK) {
            return cancellations;
        }
    }

    /** {@link #START_FAILURES} in {@code conf}; refused (before stage one) unless a whole number of at least 0. */
    static int startFailureLimit(org.apache.spark.SparkConf conf) {
        return WholeNumberSetting.read(conf, START_FAILURES, DEFAULT_START_FAILURES, 0, "executors", "(0: never cancel the"
                + " jobs; " + DEFAULT_START_FAILURES + " by default)");
    }

    /** As the listener reads it while the context starts: a bad value is the job's to refuse, with its message. */
    private static int startFailureLimitOrDefault(org.apache.spark.SparkConf conf) {
        try {
            return startFailureLimit(conf);
        } catch (io.layerscope.LayerscopeException e) {
            return DEFAULT_START_FAILURES;
        }
    }

    /** What a job whose executors never start says: how many in a row, the last reason, where to look. */
    static String notStarting(int failures, String last, String application) {
        return "executors keep exiting before they register with the driver (" + failures + " in a row, none running;"
                + " the last: " + last + "): the stderr of one, in a Worker's work directory (work/" + application
                + "/<executor>/stderr on a standalone cluster), says why; the usual causes are a bad"
                + " spark.executor.extraJavaOptions, an --executor-memory or --executor-cores the machines cannot give,"
                + " and a Java or Spark the Workers lack (" + START_FAILURES + " sets how many in a row end the job;"
                + " 0: never)";
    }

    private static String activeApplication() {
        Option<SparkContext> active = org.apache.spark.SparkContext$.MODULE$.getActive();
        return active.isDefined() ? active.get().applicationId() : "<application>";
    }

    /** The job's failure when its executors never started ({@link #START_FAILURES} in a row), or empty. */
    public static Optional<String> executorsNotStarting() {
        synchronized (LOCK) {
            return Optional.ofNullable(executorsNotStarting);
        }
    }

    /** Executors registered since the context with this listener started; -1 where none with it is up. */
    static int registered() {
        synchronized (LOCK) {
            return live ? registered : -1;
        }
    }

    /**
     * A failed attempt, with its reason's first line (an exception's stack trace stays in the logs). A
     * killed attempt is left out: Spark kills the other attempts of a task that succeeded, and the
     * running ones of a job that failed or was cancelled, which says so itself.
     */
    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
        if (end.reason() instanceof TaskFailedReason failed && !(failed instanceof TaskKilled)) {
            String reason = failed.toErrorString().strip().lines().findFirst().orElse("");
            synchronized (LOCK) {
                FAILED.add("stage " + end.stageId() + " task " + end.taskInfo().index() + " attempt "
                        + end.taskInfo().attemptNumber() + " on executor " + end.taskInfo().executorId() + ": " + reason);
            }
        }
    }

    /**
     * A removal Spark chose, not a loss: dynamic allocation releasing an idle executor ("Executor killed
     * by driver.") or decommissioning one; its tasks were not run again.
     */
    static boolean planned(String reason) {
        return reason != null && (reason.startsWith("Executor killed by driver") || reason.startsWith("Executor decommission"));
    }

    /** Where a job starts counting: {@link #lostSince} and {@link #failedSince} give what came after it. */
    record Mark(int context, int lost, int failed) {
    }

    static Mark mark() {
        synchronized (LOCK) {
            return new Mark(context, LOST.size(), FAILED.size());
        }
    }

    /**
     * The executors lost since {@code mark} (all of this context's when the mark was taken before it
     * started): Spark ran their tasks again elsewhere, or the job failed.
     */
    static List<String> lostSince(Mark mark) {
        synchronized (LOCK) {
            return after(LOST, mark, mark.lost());
        }
    }

    /** The task attempts that failed since {@code mark}, as {@link #lostSince}: Spark ran them again, or the job failed. */
    static List<String> failedSince(Mark mark) {
        synchronized (LOCK) {
            return after(FAILED, mark, mark.failed());
        }
    }

    private static List<String> after(List<String> record, Mark mark, int from) {
        return List.copyOf(mark.context() == context ? record.subList(Math.min(from, record.size()), record.size()) : record);
    }

    /** Posted first as a context stops, so every earlier event has been delivered once this one is. */
    @Override
    public void onApplicationEnd(SparkListenerApplicationEnd end) {
        synchronized (LOCK) {
            live = false;
            LOCK.notifyAll();
        }
    }

    /** Keeps {@code reason}, a lost executor's as Spark gives it, if it was a container's memory limit. */
    public static void record(String reason) {
        if (reason != null && ContainerMemoryLimit.isMemoryKill(reason)) {
            synchronized (LOCK) {
                lastMemoryKill = reason;
                memoryKills++;
            }
        }
    }

    /** The reason of the latest executor killed for its memory since this JVM's context started. */
    static Optional<String> lastMemoryKill() {
        synchronized (LOCK) {
            return Optional.ofNullable(lastMemoryKill);
        }
    }

    static int memoryKills() {
        synchronized (LOCK) {
            return memoryKills;
        }
    }

    /**
     * Where the context is stopping (or gone), waits at most {@code millis} for its listeners to have
     * been given every event: a job waiting on the scheduler is released before the events queued
     * for the listeners are delivered.
     */
    static void awaitDelivered(long millis) throws InterruptedException {
        // Spark's own look-up of the running context (package-private in Scala, public to Java)
        Option<SparkContext> active = org.apache.spark.SparkContext$.MODULE$.getActive();
        if (active.isDefined() && !active.get().isStopped()) {
            return;
        }
        long deadline = System.nanoTime() + millis * 1_000_000L;
        synchronized (LOCK) {
            long left;
            while (live && (left = deadline - System.nanoTime()) > 0) {
                LOCK.wait(Math.max(1, left / 1_000_000L));
            }
        }
    }

    /**
     * Waits at most {@code millis} for the listeners to have been given every event posted so far: a
     * failed attempt's event may still be queued when the job's last task has already ended.
     */
    static void awaitListeners(SparkContext sc, long millis) {
        try {
            sc.listenerBus().waitUntilEmpty(millis);
        } catch (Exception e) {
            // a listener slower than that (TimeoutException): record what has been delivered; Scala's
            // sleep may also throw an InterruptedException it does not declare, whose flag is kept
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Forgets the memory kills recorded (tests); the lost executors and failed attempts stay until the next context. */
    public static void clear() {
        synchronized (LOCK) {
            lastMemoryKill = null;
            memoryKills = 0;
        }
    }
}
