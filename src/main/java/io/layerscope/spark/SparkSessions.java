package io.layerscope.spark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * The one place a SparkSession is made. Under spark-submit the master and settings come from
 * spark-submit; run any other way (tests, the IDE) the session falls back to {@code local[*]}.
 */
public final class SparkSessions {
    /** The master of a run that names none (tests, the IDE). */
    static final String DEFAULT_MASTER = "local[*]";

    private SparkSessions() {
    }

    /**
     * A directory under java.io.tmpdir named for this JVM, not created here: Spark creates it if
     * its catalog is used, and it is deleted (if it exists) when the JVM exits.
     */
    static final class TemporaryWarehouse {
        private static final Path DIR = Path.of(System.getProperty("java.io.tmpdir"),
                "layerscope-warehouse-" + ProcessHandle.current().pid() + "-" + UUID.randomUUID());

        static {
            Runtime.getRuntime().addShutdownHook(new Thread(TemporaryWarehouse::delete, "layerscope-warehouse-cleanup"));
        }

        private TemporaryWarehouse() {
        }

        static String uri() {
            return DIR.toUri().toString();
        }

        static Path dir() {
            return DIR;
        }

        private static void delete() {
            if (!Files.exists(DIR)) {
                return;
            }
            try (Stream<Path> s = Files.walk(DIR)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException | RuntimeException e) {
                // best effort at exit
            }
        }
    }

    /** The warehouse directory every session made here uses unless told otherwise (for sessions made elsewhere: tests). */
    public static String temporaryWarehouse() {
        return TemporaryWarehouse.uri();
    }

    public static SparkSession getOrCreate(String appName) {
        return getOrCreate(appName, new SparkConf());
    }

    /**
     * A session for SQL over results (the {@code query} command): small tables read by the driver's
     * own executor, many short statements. What it leaves out costs start-up time and serves no query:
     * the UI and its listeners, the console progress bar, and whole-stage code generation, whose Janino
     * compilation of every new plan takes longer than running it interpreted over a few thousand rows.
     * Settings given with --conf win.
     */
    public static SparkSession forQueries(String appName) {
        SparkConf conf = new SparkConf();
        conf.setIfMissing("spark.sql.codegen.wholeStage", "false");
        UserErrorLogFilter.installForQueries();   // a failed statement is told once, by the command
        return getOrCreate(appName, conf);
    }

    /** A session with {@code conf} (spark.* system properties and the job's own settings) under the defaults below. */
    static SparkSession getOrCreate(String appName, SparkConf conf) {
        if (!conf.contains("spark.app.name")) {
            conf.setAppName(appName);
        }
        refuseTaskResourcesInLocalMode(withDefaults(conf));
        refuseExecutorHeapsThatCannotStart(conf);
        conf.setIfMissing(ExecutorResources.DRIVER_BUILD, RunRecords.build());   // what the executors check theirs against
        SparkSession session = SparkSession.builder().config(conf).getOrCreate();
        RemoteExecutorJar.addTo(session.sparkContext());
        return session;
    }

    /**
     * Spark's local mode offers its tasks no custom resources, so a job whose tasks ask for a GPU (the GPU
     * profile without --master) would wait for ever with nothing said; refused before Spark starts.
     */
    static void refuseTaskResourcesInLocalMode(SparkConf conf) {
        String master = conf.get("spark.master", DEFAULT_MASTER);
        if (!LocalDevice.isLocal(master)) {
            return;
        }
        for (scala.Tuple2<String, String> kv : conf.getAll()) {
            if (kv._1().matches("spark\\.task\\.resource\\.[^.]+\\.amount") && !kv._2().trim().matches("0*(\\.0*)?")) {
                throw new io.layerscope.LayerscopeException("--master " + master + " cannot run tasks that ask for "
                        + kv._1() + "=" + kv._2().trim() + ": Spark's local mode gives its tasks no such resources,"
                        + " and the job would wait for ever. Run on a cluster manager (--master spark://..., yarn or"
                        + " k8s://...), or leave out the resource settings (conf/gpu/spark-gpu.conf): without them local mode"
                        + " runs on this machine's CPUs, or with --device cuda on its GPU");
            }
        }
    }

    /** Spark's smallest heap (1.5 times its 300 MiB reserve) as the JVM reports it, driver's and executors' alike. */
    static final long SPARK_SMALLEST_HEAP = 450L << 20;

    /**
     * An executor heap Spark's driver accepts but whose executors cannot start: the parallel collector
     * (conf/spark-defaults.conf's for executors) reports its heap less one survivor space, up to a third of the executors' -XX:MaxNewSize
     * (conf/spark-defaults.conf caps the young generation), and an executor whose reported heap is below
     * Spark's smallest exits as it starts. The cluster manager starts another and another, and the job
     * waits for ever with nothing said; refused before Spark starts. Local mode's executor is the driver.
     */
    static void refuseExecutorHeapsThatCannotStart(SparkConf conf) {
        if (LocalDevice.isLocal(conf.get("spark.master", DEFAULT_MASTER)) || !conf.contains("spark.executor.memory")) {
            return;
        }
        long heap = conf.getSizeAsBytes("spark.executor.memory");
        String options = conf.get("spark.executor.extraJavaOptions", "");
        String maxNew = lastOption("-XX:MaxNewSize=(\\d+[kKmMgG]?)", options);
        // the collectors themselves, not flags that tune one (-XX:+UseAdaptiveSizePolicyWithSystemGC)
        String gc = lastOption("-XX:\\+Use(Parallel|Serial|G1|Z|Shenandoah|Epsilon|ConcMarkSweep)GC(?!\\w)", options);
        // the survivor space a collector leaves out of the heap it reports: the parallel one's can grow
        // to a third of the young generation (MinSurvivorRatio), the serial one's is a tenth (SurvivorRatio
        // 8); G1 and the others report the whole heap, and without a flag the JVM picks, unknown here
        int share = "Parallel".equals(gc) ? 3 : "Serial".equals(gc) ? 10 : 0;
        if (maxNew == null || share == 0 || heap < SPARK_SMALLEST_HEAP) {
            return;   // a heap below Spark's smallest Spark refuses itself, at once
        }
        long survivor = org.apache.spark.network.util.JavaUtils.byteStringAsBytes(maxNew) / share;   // a bare number: bytes
        if (heap - survivor < SPARK_SMALLEST_HEAP) {
            long least = (SPARK_SMALLEST_HEAP + survivor + (1L << 20) - 1) >> 20;
            throw new io.layerscope.LayerscopeException("--executor-memory " + conf.get("spark.executor.memory")
                    + " leaves an executor " + ((heap - survivor) >> 20) + " MiB of heap as Java counts it (less a"
                    + " survivor space of " + (share == 3 ? "a third" : "a tenth") + " of -XX:MaxNewSize=" + maxNew
                    + ", from spark.executor.extraJavaOptions),"
                    + " below Spark's smallest, 450 MiB: every executor would exit as it starts and the job wait for ever."
                    + " Give the executors " + least + "m or more (1g or more for a real model: docs/CLUSTER.md, executor"
                    + " memory)");
        }
    }

    /** The group of {@code regex}'s last match in JVM {@code options} (the JVM takes the last), or null. */
    private static String lastOption(String regex, String options) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(regex).matcher(options);
        String last = null;
        while (m.find()) {
            last = m.group(1);
        }
        return last;
    }

    /** Adds {@code listener} to the user's spark.extraListeners, once: Spark starts them before any executor. */
    static void withListener(SparkConf conf, String listener) {
        String given = conf.get("spark.extraListeners", "").trim();
        if (!java.util.Arrays.asList(given.split("\\s*,\\s*")).contains(listener)) {
            conf.set("spark.extraListeners", given.isEmpty() ? listener : given + "," + listener);
        }
    }

    /** {@code conf}, given layerscope's defaults for what it does not set. */
    static SparkConf withDefaults(SparkConf conf) {
        if (!conf.contains("spark.master")) {
            conf.setMaster(DEFAULT_MASTER);
        }
        conf.setIfMissing("spark.ui.enabled", "false");
        conf.setIfMissing("spark.ui.showConsoleProgress", "false");
        conf.setIfMissing("spark.sql.shuffle.partitions", "4");
        conf.setIfMissing("spark.executorEnv.DJL_OFFLINE", "true");
        // The default shard count is the task slots registered when stage one starts, and the scaler_rows'
        // last bits depend on it: wait for every executor asked for (standalone: --total-executor-cores;
        // YARN and Kubernetes: the executors requested, of which Spark would take 80%), for at most
        // spark.scheduler.maxRegisteredResourcesWaitingTime (30 s)
        conf.setIfMissing("spark.scheduler.minRegisteredResourcesRatio", "1.0");
        // --gram's passes return in x in doubles per tap from every shard, bounded by --gram-memory
        // rather than by Spark's 1 GiB default on all of a job's results
        conf.setIfMissing("spark.driver.maxResultSize", "0");
        // the layers table has ~60 columns; Spark warns when printing plans wider than 25
        conf.setIfMissing("spark.sql.debug.maxToStringFields", "200");
        // Java serialisation keeps every object a stream has written or read (for back-references)
        // until the stream is reset, by default every 100 objects: 100 batches of hidden states that
        // sequential mode stores or spills, each up to tens of MB, held on the heap at once
        conf.setIfMissing("spark.serializer.objectStreamReset", "1");
        // Spark's catalog makes spark-warehouse/ in the working directory at its first use (SHOW
        // TABLES, CREATE TABLE); layerscope keeps no tables, so it goes to a temporary directory.
        conf.setIfMissing("spark.sql.warehouse.dir", TemporaryWarehouse.uri());
        withListener(conf, Setbacks.class.getName());
        return conf;
    }
}
