package io.layerscope.spark;

import ai.djl.Device;
import io.layerscope.LayerscopeException;
import io.layerscope.plot.PictureSize;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.OptionalDouble;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaFutureAction;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.VoidFunction;
import org.apache.spark.sql.SparkSession;
import scala.Option;

/**
 * Starts the Spark session, then loads and warms the model on the executors, on a background
 * thread while the driver samples the calibration windows (in local mode the model starts loading
 * at once, in this JVM, beside Spark's start). Sampling (tokenizing documents) is
 * single-threaded driver work and the executors would idle through it; on a cluster the model
 * load (seconds per GB of weights) is the longer of the two, so overlapping them takes the shorter
 * one off the job's wall time. The warm-up is best effort: a failure there is left for stage one
 * to meet and report with its usual message.
 *
 * <pre>{@code
 * SparkStartup startup = SparkStartup.begin("layerscope sweep", spec, seqlen, "1", PictureSize.DEFAULT, true);
 * List<CalibrationSample> samples = sample();      // meanwhile Spark starts and executors load the model
 * SparkSession spark = startup.session();          // waits for the session only, not the warm-up
 * startup.awaitWarmUpSubmitted();                  // before the first job, which then queues behind it
 * }</pre>
 */
final class SparkStartup {
    /** The thread that starts the session and then runs the warm-up job. */
    static final String THREAD = "layerscope-spark-startup";
    private final CompletableFuture<SparkSession> session = new CompletableFuture<>();
    /** Seconds the warm-up took: the warm-up job's, or in local mode the preload's from the start. */
    private final CompletableFuture<Double> warmUp = new CompletableFuture<>();
    /** Whether the preload in this JVM is the warm-up (local mode), once it has decided. */
    private final CompletableFuture<Boolean> preloading = new CompletableFuture<>();
    /** Completed once the warm-up job is submitted, or once it will not be (Spark failed to start). */
    private final CompletableFuture<Void> warmUpSubmitted = new CompletableFuture<>();
    /** Completed once --ship-model's files are with Spark (at once without it); exceptionally if they could not be. */
    private final CompletableFuture<Void> shipping = new CompletableFuture<>();
    private volatile double sessionSeconds = Double.NaN;
    /** When the caller asked for the session: its seconds include the set-up before the thread runs. */
    private final long begun;

    private SparkStartup(long begun) {
        this.begun = begun;
    }

    /**
     * Starts the session and then the warm-up job (one task per task slot Spark reports; each
     * executor JVM loads the model once and runs one window of {@code seqlen} tokens through it,
     * then starts drawing {@link PictureWarmUp}'s throwaway pictures of {@code pictures} size unless
     * that is null); in local mode this JVM starts the same warm-up at once ({@link #preload}).
     * The thread inherits the caller's Spark local properties, as a job submitted by the caller would.
     *
     * @param hugePages {@link HugePageAllocation#executorSetting(int, int, boolean)} for the executors the job starts
     * @param warmModel whether the model is loaded and warmed (the warm-up job, and in local mode the
     *                  preload in this JVM); false where stage one's result may come from
     *                  --calibration-cache, which is known only after sampling, when stage one would start
     *                  at once anyway; on a hit the warm-up's forward would only compete with stage two
     */
    static SparkStartup begin(String appName, ModelSpec spec, int seqlen, String hugePages, PictureSize pictures,
                              boolean warmModel) {
        return begin(appName, spec, seqlen, hugePages, pictures, warmModel, null);
    }

    /** {@link #begin(String, ModelSpec, int, String, PictureSize, boolean)}, sending {@code shipped} (null: nothing) once Spark is up. */
    static SparkStartup begin(String appName, ModelSpec spec, int seqlen, String hugePages, PictureSize pictures,
                              boolean warmModel, ShippedModel shipped) {
        // Only threads start here: the caller samples at once, while Spark's first classes (SparkConf
        // alone is slow in a fresh JVM) load.
        long begun = System.nanoTime();
        UserErrorLogFilter.install();
        SparkStartup s = new SparkStartup(begun);
        Thread t = new Thread(() -> s.run(appName, spec, seqlen, hugePages, pictures, warmModel, shipped), THREAD);
        t.setDaemon(true);
        t.start();
        Thread preload = new Thread(() -> s.preload(spec, seqlen, pictures, warmModel), "layerscope-model-preload");
        preload.setDaemon(true);
        preload.start();
        CompilerDirectives.addOnceInBackground();
        return s;
    }

    /**
     * In local mode (on the CPU, or on --device's GPUs) the executor is this JVM, so the model can load
     * before Spark is even up: this preload is then the warm-up, and its time, from the start, is the warm-up's. The
     * warm-up job still runs there: its tasks find the model warm, but stage one ran slower without it
     * in paired sweeps (docs/PERFORMANCE.md; Spark's own first-task costs, presumably).
     */
    private void preload(ModelSpec spec, int seqlen, PictureSize pictures, boolean warmModel) {
        try {
            SparkConf conf = new SparkConf();
            boolean local = runsTasksInThisJvm(conf);
            preloading.complete(local);
            if (local) {
                ExecutorResources.configureThreads(conf.getInt("spark.task.cpus", 1));
                // on the CPU the model only, no warm-up window: stage one's tasks start in this JVM while
                // the window would still run, and its block arrays would be a set beside theirs. A GPU's
                // blocks stay on it, and its first window (CUDA's start) would otherwise be stage one's
                Device device = LocalDevice.orCpu();
                warmBestEffort(spec, device, seqlen, pictures, warmModel, device.isGpu());
                warmUp.complete((System.nanoTime() - begun) / 1e9);
            }
        } finally {
            // whatever went wrong here, the startup thread must not wait for the decision forever
            preloading.complete(false);
        }
    }

    /**
     * Local mode on the CPU: tasks run in this JVM, on the device a preload here would use. The
     * master is the running session's, else the one spark-submit set.
     */
    private static boolean runsTasksInThisJvm(SparkConf conf) {
        return LocalDevice.isLocal(LocalDevice.master(conf)) && !conf.contains("spark.task.resource.gpu.amount");
    }

    private void run(String appName, ModelSpec spec, int seqlen, String hugePages, PictureSize pictures, boolean model,
                     ShippedModel shipped) {
        SparkSession spark;
        try {
            SparkConf conf = new SparkConf();
            HugePageAllocation.setExecutorEnv(conf, hugePages);
            spark = SparkSessions.getOrCreate(appName, conf);
        } catch (Throwable e) {
            // Scala throws checked exceptions too (SparkException for --master local[0]): whatever it
            // is, the caller must learn of it, or it would wait for the session forever
            session.completeExceptionally(e);
            warmUp.completeExceptionally(e);
            shipping.complete(null);   // nothing to ship to: the session's failure is the one to tell
            warmUpSubmitted.complete(null);
            return;
        }
        sessionSeconds = (System.nanoTime() - begun) / 1e9;
        session.complete(spark);
        boolean preloaded = false;
        try {
            if (shipped != null) {
                // before any job, whose tasks fetch what was added before it; the driver's own copy of the
                // files (Spark makes one) overlaps with sampling, and awaitWarmUpSubmitted waits for it
                try {
                    shipped.ship(spark.sparkContext());
                } catch (Throwable e) {
                    shipping.completeExceptionally(e);
                    warmUp.completeExceptionally(e);
                    return;   // no job could read the model: the warm-up would only fail
                }
            }
            shipping.complete(null);
            preloaded = preloading.join();
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            int slots = Math.max(1, jsc.defaultParallelism());
            List<Integer> tasks = new ArrayList<>();
            for (int i = 0; i < slots; i++) {
                tasks.add(i);
            }
            jsc.setJobDescription(model ? "layerscope: load and warm the model on the executors"
                    : "layerscope: warm the pictures on the executors");
            long t1 = System.nanoTime();
            JavaFutureAction<Void> job = jsc.parallelize(tasks, slots)
                    .foreachPartitionAsync(new WarmUpTask(spec, seqlen, pictures, model));
            warmUpSubmitted.complete(null);
            job.get();
            if (!preloaded) {
                warmUp.complete((System.nanoTime() - t1) / 1e9);
            }
        } catch (RuntimeException | ExecutionException | InterruptedException e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            if (!preloaded) {
                warmUp.completeExceptionally(e);
            }
        } finally {
            // whatever went wrong before the job was submitted, the caller must not wait for it forever
            shipping.complete(null);
            warmUpSubmitted.complete(null);
        }
    }

    /**
     * Waits until the warm-up job has been submitted (at once if Spark failed to start), so that a job
     * the caller submits next queues behind it. Without this, windows read back in milliseconds let stage
     * one win the race to the scheduler: the warm-up then ran after it, warming nothing (the pictures'
     * warm-up too) while reporting all of stage one as its time.
     */
    void awaitWarmUpSubmitted() {
        warmUpSubmitted.join();
        awaitShipped();
    }

    /** Waits for --ship-model's files to be with Spark; if they could not be, no job could read the model: thrown. */
    private void awaitShipped() {
        try {
            shipping.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }

    /**
     * The job failed before it took the session (bad calibration data, say) and the JVM is about to
     * exit under a context still being built. Spark then fails in its constructor and logs an error
     * from stopping the half-built context (a null endpoint), after the command's own message: that
     * thread's log is dropped from here on.
     */
    void abandon() {
        UserErrorLogFilter.silence(THREAD);
    }

    /** Throws the failure to start Spark if it has already failed, so the caller can stop its own work at once. */
    void throwIfFailed() {
        if (session.isCompletedExceptionally()) {
            session();
        }
        if (shipping.isCompletedExceptionally()) {
            awaitShipped();
        }
    }

    /**
     * As {@link #session()}, saying on {@code err} what it waits for when a cluster's session is not
     * up after a few seconds: Spark starts it once the executors asked for have registered, or after
     * spark.scheduler.maxRegisteredResourcesWaitingTime, and says nothing meanwhile.
     */
    SparkSession session(java.io.PrintStream err) {
        try {
            return session.get(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while Spark was starting", e);
        } catch (java.util.concurrent.TimeoutException | ExecutionException e) {
            waitingLine(new SparkConf()).filter(l -> e instanceof java.util.concurrent.TimeoutException)
                    .ifPresent(err::println);
        }
        return session();
    }

    /** What a session on a cluster's master waits for, or empty in local mode. */
    static java.util.Optional<String> waitingLine(SparkConf conf) {
        if (LocalDevice.isLocal(conf)) {
            return java.util.Optional.empty();
        }
        String master = conf.get("spark.master");
        return java.util.Optional.of("spark: waiting for the executors to register on " + master + " (the cores of"
                + " --total-executor-cores, or the executors asked for; at most spark.scheduler."
                + "maxRegisteredResourcesWaitingTime, " + conf.get("spark.scheduler.maxRegisteredResourcesWaitingTime", "30s")
                + ", after which the job starts on those registered)");
    }

    /** Waits for the session; a failure to start Spark is thrown here, as a user error naming Spark's reason. */
    SparkSession session() {
        try {
            return session.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while Spark was starting", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof Error err) {
                throw err;
            }
            if (cause instanceof LayerscopeException user) {
                throw user;   // already said in a user's terms (e.g. RemoteExecutorJar)
            }
            throw startFailure(cause, new SparkConf().get("spark.master", SparkSessions.DEFAULT_MASTER));
        }
    }

    /** Spark's failure to start on {@code master}, told as a user error. */
    static LayerscopeException startFailure(Throwable cause, String master) {
        // a bad --master or --conf, or a master that does not answer (Spark's own message says which)
        String why = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
        if (stoppedWhileStarting(cause, why)) {
            LayerscopeException memory = ContainerMemoryLimit.explainExecutorLosses(cause);
            if (memory != null) {
                return memory;   // YARN or Kubernetes killed the first executors until Spark gave up
            }
            // Spark gave up (a master that never answered) and stopped the context while it started; what
            // surfaces depends on how far the start had got, and none of it means anything to a user
            why = "Spark stopped its context while starting";
        }
        return new LayerscopeException("Spark did not start with --master " + master + " (" + why + ")" + whatToCheck(master),
                cause);
    }

    /** What a user checks when Spark stopped or never started on {@code master}. */
    static String whatToCheck(String master) {
        return "; check --master and the --conf settings" + (master.startsWith("spark://")
                ? ", and that the master runs and this machine reaches it" : "");
    }

    /**
     * Whether a start-up failure is Spark's own context being stopped under it: the stopped-context check, the
     * stopped listener bus, or a null scheduler (all seen when a standalone master gives up during the start),
     * or the wait for executors cut short (YARN's client mode, executors failing as they start).
     */
    static boolean stoppedWhileStarting(Throwable cause, String why) {
        return why.startsWith("Cannot call methods on a stopped SparkContext")
                || why.startsWith("LiveListenerBus is stopped")
                || why.startsWith("Spark context stopped while waiting for backend")
                || cause instanceof NullPointerException && why.contains("SparkContext");
    }

    /** Seconds from {@link #begin} until the session was ready (it starts on a background thread). */
    double sessionSeconds() {
        return sessionSeconds;
    }

    /**
     * Seconds the warm-up took, if it has finished successfully by now: the warm-up job's, or in local
     * mode the preload's, counted from {@link #begin}.
     */
    OptionalDouble warmUpSeconds() {
        Double s = warmUp.isDone() && !warmUp.isCompletedExceptionally() ? warmUp.join() : null;
        return s == null ? OptionalDouble.empty() : OptionalDouble.of(s);
    }

    /**
     * Runs on an executor: the model into the per-JVM cache, then one window through it, once per JVM;
     * then the picture warm-up starts beside (the task does not wait for it, so stage one's tasks do not).
     */
    static final class WarmUpTask implements VoidFunction<Iterator<Integer>> {
        private static final long serialVersionUID = 1L;
        private final ModelSpec spec;
        private final int seqlen;
        private final PictureSize pictures;
        private final boolean model;

        WarmUpTask(ModelSpec spec, int seqlen, PictureSize pictures, boolean model) {
            this.spec = spec;
            this.seqlen = seqlen;
            this.pictures = pictures;
            this.model = model;
        }

        @Override
        public void call(Iterator<Integer> ignored) {
            HeapExhaustion.guard(() -> "the executor's warm-up (the model's first window)", () -> {
                Device device;
                try {
                    device = ExecutorResources.taskDevice();
                } catch (LayerscopeException e) {
                    return null;   // a GPU libtorch cannot use: stage one says so
                }
                // a warm-up window where stage one comes later: on a cluster's executors, and on a GPU
                warmBestEffort(spec, device, seqlen, pictures, model, device.isGpu() || !HeldValues.inDriverJvm());
                return null;
            });
        }
    }

    /**
     * {@link ExecutorResources#warmModel} (with a warm-up window if {@code forward}) when {@code model},
     * whose failure stage one meets again and reports with its own message, then
     * {@link PictureWarmUp#startOnce} (after the model: the forward's warm-up comes first).
     */
    private static void warmBestEffort(ModelSpec spec, Device device, int seqlen, PictureSize pictures, boolean model,
                                       boolean forward) {
        try {
            if (model) {
                ExecutorResources.warmModel(spec, device, seqlen, forward);
            }
        } catch (RuntimeException e) {
            // left for stage one
        }
        PictureWarmUp.startOnce(pictures);
    }
}
