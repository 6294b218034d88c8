package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.LayerscopeException;
import java.io.OutputStream;
import java.lang.ref.WeakReference;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.serializer.JavaSerializer;
import org.apache.spark.serializer.SerializationStream;
import org.junit.jupiter.api.Test;
import scala.reflect.ClassTag$;

/** The settings every layerscope session starts with, where they change what Spark does. */
class SparkSessionsTest {
    /**
     * Spark stores and spills sequential mode's hidden states through Java serialisation, whose
     * streams keep each object written (for back-references) until reset: by Spark's default every
     * 100 objects, which at real size is 100 batches of states on the heap. With layerscope's
     * settings a batch written is let go of at once; with Spark's, it is still held.
     */
    @Test
    void aSerialisationStreamLetsGoOfEachObjectItHasWritten() throws Exception {
        assertNull(heldAfterTheNextWrite(SparkSessions.withDefaults(new SparkConf(false))), "held by the stream");
        assertNotNull(heldAfterTheNextWrite(new SparkConf(false)), "Spark's own default keeps it (the control)");
    }

    /** Writes a 4 MiB array and then another through a Spark serialisation stream; the first, if still reachable. */
    private static Object heldAfterTheNextWrite(SparkConf conf) throws Exception {
        SerializationStream out = new JavaSerializer(conf).newInstance().serializeStream(OutputStream.nullOutputStream());
        byte[] first = new byte[4 << 20];
        WeakReference<byte[]> written = new WeakReference<>(first);
        out.writeObject(first, ClassTag$.MODULE$.apply(byte[].class));
        first = null;
        out.writeObject(new byte[16], ClassTag$.MODULE$.apply(byte[].class));
        // a collection may leave a weak referent for a later one (once seen on a loaded CI machine): ask up to 4 s
        for (int i = 0; i < 40 && written.get() != null; i++) {
            System.gc();
            Thread.sleep(100);
        }
        Object held = written.get();
        out.close();
        return held;
    }

    @Test
    void layerscopesDefaultsGiveWayToTheUsersSettings() {
        SparkConf conf = SparkSessions.withDefaults(new SparkConf(false).set("spark.serializer.objectStreamReset", "50"));
        assertEquals("50", conf.get("spark.serializer.objectStreamReset"));
        assertEquals("1", SparkSessions.withDefaults(new SparkConf(false)).get("spark.serializer.objectStreamReset"));
    }

    @Test
    void theExecutorLossListenerJoinsTheUsersListenersOnce() {
        String losses = Setbacks.class.getName();
        assertEquals(losses, SparkSessions.withDefaults(new SparkConf(false)).get("spark.extraListeners"));
        SparkConf users = new SparkConf(false).set("spark.extraListeners", "com.example.Audit");
        assertEquals("com.example.Audit," + losses, SparkSessions.withDefaults(users).get("spark.extraListeners"));
        assertEquals("com.example.Audit," + losses, SparkSessions.withDefaults(users).get("spark.extraListeners"));
    }

    /** The session Spark started with layerscope's defaults delivers its executors' losses to the record. */
    @Test
    void aSessionsExecutorLossesAreRecorded() throws InterruptedException {
        SparkContext sc = SparkSessions.getOrCreate("test").sparkContext();
        String reason = "Container killed by YARN for exceeding physical memory limits. (test " + System.nanoTime() + ")";
        try {
            sc.listenerBus().post(new SparkListenerExecutorRemoved(System.currentTimeMillis(), "7", reason));
            long deadline = System.nanoTime() + 10_000_000_000L;   // the bus delivers on its own thread
            while (Setbacks.lastMemoryKill().isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(java.util.Optional.of(reason), Setbacks.lastMemoryKill());
        } finally {
            Setbacks.clear();
        }
    }

    /** Local mode would leave a job whose tasks ask for a GPU waiting for ever; other masters schedule them. */
    @Test
    void taskResourcesAreRefusedInLocalModeOnly() {
        for (String master : List.of("local", "local[*]", "local[2,4]")) {
            SparkConf gpu = new SparkConf(false).setMaster(master).set("spark.task.resource.gpu.amount", "1");
            LayerscopeException e = assertThrows(LayerscopeException.class, () -> SparkSessions.refuseTaskResourcesInLocalMode(gpu));
            assertEquals("--master " + master + " cannot run tasks that ask for spark.task.resource.gpu.amount=1: Spark's"
                    + " local mode gives its tasks no such resources, and the job would wait for ever. Run on a cluster"
                    + " manager (--master spark://..., yarn or k8s://...), or leave out the resource settings"
                    + " (conf/gpu/spark-gpu.conf): without them local mode runs on this machine's CPUs, or with --device"
                    + " cuda on its GPU", e.getMessage());
        }
        SparkSessions.refuseTaskResourcesInLocalMode(new SparkConf(false).setMaster("local[*]")
                .set("spark.task.resource.gpu.amount", "0.0").set("spark.executor.resource.gpu.amount", "1"));
        for (String master : List.of("spark://head:7077", "yarn", "k8s://https://api:6443", "local-cluster[2,1,1024]")) {
            SparkSessions.refuseTaskResourcesInLocalMode(new SparkConf(false).setMaster(master)
                    .set("spark.task.resource.gpu.amount", "1"));
        }
    }

    /** The executors' JVM options as conf/spark-defaults.conf ships them. */
    private static String shippedExecutorOptions() throws java.io.IOException {
        return java.nio.file.Files.readAllLines(java.nio.file.Path.of(System.getProperty("layerscope.repo", "."))
                .resolve("conf/spark-defaults.conf")).stream().filter(l -> l.startsWith("spark.executor.extraJavaOptions"))
                .map(l -> l.substring("spark.executor.extraJavaOptions".length()).trim()).findFirst().orElseThrow();
    }

    @Test
    void anExecutorHeapWhoseExecutorsCannotStartIsRefused() throws Exception {
        String options = shippedExecutorOptions();
        assertTrue(options.contains("-XX:MaxNewSize=256m"), options);
        SparkConf small = new SparkConf(false).setMaster("spark://head:7077").set("spark.executor.memory", "520m")
                .set("spark.executor.extraJavaOptions", options);
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> SparkSessions.refuseExecutorHeapsThatCannotStart(small));
        assertEquals("--executor-memory 520m leaves an executor 434 MiB of heap as Java counts it (less a survivor space"
                + " of a third of -XX:MaxNewSize=256m, from spark.executor.extraJavaOptions), below Spark's smallest,"
                + " 450 MiB: every executor would exit as it starts and the job wait for ever. Give the executors 536m or"
                + " more (1g or more for a real model: docs/CLUSTER.md, executor memory)", e.getMessage());
        // what measured executors started with (536m) and what they did not (532m)
        SparkSessions.refuseExecutorHeapsThatCannotStart(small.clone().set("spark.executor.memory", "536m"));
        assertThrows(LayerscopeException.class, () -> SparkSessions.refuseExecutorHeapsThatCannotStart(
                small.clone().set("spark.executor.memory", "532m")));
        // local mode's executor is the driver; other collectors' options, and heaps Spark refuses itself, pass here
        SparkSessions.refuseExecutorHeapsThatCannotStart(small.clone().setMaster("local[2]"));
        SparkSessions.refuseExecutorHeapsThatCannotStart(small.clone().set("spark.executor.extraJavaOptions", "-XX:+UseG1GC"));
        // G1 counts the whole heap, a young-generation cap or not (submit.sh keeps the conf's cap with the user's collector)
        SparkSessions.refuseExecutorHeapsThatCannotStart(small.clone().set("spark.executor.extraJavaOptions",
                options.replace("-XX:+UseParallelGC", "-XX:+UseG1GC")));
        SparkSessions.refuseExecutorHeapsThatCannotStart(small.clone().set("spark.executor.extraJavaOptions",
                options + " -XX:+UseG1GC"));
        // a flag that tunes the parallel collector is not another collector
        assertThrows(LayerscopeException.class, () -> SparkSessions.refuseExecutorHeapsThatCannotStart(small.clone()
                .set("spark.executor.memory", "500m").set("spark.executor.extraJavaOptions",
                        options + " -XX:+UseAdaptiveSizePolicyWithSystemGC")));
        // the serial collector leaves a tenth of the young generation out: 450 + 25.6 MiB
        LayerscopeException serial = assertThrows(LayerscopeException.class, () -> SparkSessions.refuseExecutorHeapsThatCannotStart(
                small.clone().set("spark.executor.memory", "470m").set("spark.executor.extraJavaOptions",
                        options.replace("-XX:+UseParallelGC", "-XX:+UseSerialGC"))));
        assertTrue(serial.getMessage().contains("a tenth of -XX:MaxNewSize=256m") && serial.getMessage().contains("476m or more"),
                serial.getMessage());
        SparkSessions.refuseExecutorHeapsThatCannotStart(small.clone().set("spark.executor.memory", "476m")
                .set("spark.executor.extraJavaOptions", options.replace("-XX:+UseParallelGC", "-XX:+UseSerialGC")));
        SparkSessions.refuseExecutorHeapsThatCannotStart(small.clone().set("spark.executor.memory", "400m"));
        // the last -XX:MaxNewSize counts, as for the JVM; a bare number is bytes
        SparkSessions.refuseExecutorHeapsThatCannotStart(small.clone().set("spark.executor.extraJavaOptions",
                options + " -XX:MaxNewSize=64m"));
        assertThrows(LayerscopeException.class, () -> SparkSessions.refuseExecutorHeapsThatCannotStart(
                small.clone().set("spark.executor.extraJavaOptions", "-XX:+UseParallelGC -XX:MaxNewSize=" + (256L << 20))));
    }

    @Test
    void aJobWaitsForTheExecutorsAskedForUnlessToldOtherwise() {
        assertEquals("1.0", SparkSessions.withDefaults(new SparkConf(false)).get("spark.scheduler.minRegisteredResourcesRatio"));
        assertEquals("0.5", SparkSessions.withDefaults(new SparkConf(false).set("spark.scheduler.minRegisteredResourcesRatio",
                "0.5")).get("spark.scheduler.minRegisteredResourcesRatio"));
    }
}
