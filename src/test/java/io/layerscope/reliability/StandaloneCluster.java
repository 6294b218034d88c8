package io.layerscope.reliability;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A Spark standalone cluster of separate processes on 127.0.0.1: one Master and N Workers started
 * from the test classpath, each Worker launching executor JVMs for applications, as a real cluster
 * does. No Spark distribution is needed: SPARK_HOME is a directory laid out the way Spark's
 * launcher looks for one (a RELEASE file, an empty {@code jars/}), and the executors' classpath
 * comes from SPARK_DIST_CLASSPATH, which the Worker's command builder appends. Spark 4 adds the
 * Java module flags to executor commands itself.
 *
 * <pre>{@code
 * try (StandaloneCluster c = StandaloneCluster.start(dir, 2)) {
 *     SparkSession s = SparkSession.builder().master(c.masterUrl()).getOrCreate();
 * }
 * }</pre>
 */
final class StandaloneCluster implements AutoCloseable {
    private static final long START_TIMEOUT_MS = 180_000;
    /** Spark's own log set-up (INFO), whatever the test classpath's: readiness is read from these lines. */
    private static final String SPARK_LOGGING = "-Dlog4j2.configurationFile=org/apache/spark/log4j2-defaults.properties";

    private final Path dir;
    private final String masterUrl;
    private final Process master;
    private final List<Process> workers;
    private final Path hidden;

    private StandaloneCluster(Path dir, String masterUrl, Process master, List<Process> workers, Path hidden) {
        this.dir = dir;
        this.masterUrl = masterUrl;
        this.master = master;
        this.workers = workers;
        this.hidden = hidden;
    }

    /**
     * Starts the Master and {@code workers} Workers (1 core, 2 GB each); returns once all registered.
     * Where the system allows private mount namespaces (root, unshare), the Workers and their executors
     * see an empty file system at {@code dir/driver-only}: what the driver puts there, the cluster
     * does not see, as on nodes without shared storage.
     */
    static StandaloneCluster start(Path dir, int workers) throws IOException, InterruptedException {
        return start(dir, workers, 1);
    }

    /** As {@link #start(Path, int)}, with {@code cores} cores per Worker. */
    static StandaloneCluster start(Path dir, int workers, int cores) throws IOException, InterruptedException {
        return start(dir, workers, cores, ChildJvm.classpath(), List.of());
    }

    /**
     * One Worker of {@code cores} cores with one GPU at address 0, as its discovery script reports it
     * (written here: no GPU is needed, Spark only schedules the address). Executors that ask for
     * spark.executor.resource.gpu.amount get it from the Worker, as on a real standalone GPU cluster.
     */
    static StandaloneCluster startWithOneGpu(Path dir, int cores) throws IOException, InterruptedException {
        Path script = Files.createDirectories(dir).resolve("one-gpu.sh");
        Files.writeString(script, "#!/bin/sh\necho '{\"name\": \"gpu\", \"addresses\": [\"0\"]}'\n");
        script.toFile().setExecutable(true);
        return start(dir, 1, cores, ChildJvm.classpath(), List.of("-Dspark.worker.resource.gpu.amount=1",
                "-Dspark.worker.resource.gpu.discoveryScript=" + script));
    }

    /**
     * As {@link #start(Path, int, int)}, whose executors (and drivers) have Spark and the libraries
     * but not layerscope's own classes, as nodes whose Spark lacks the application jar.
     */
    static StandaloneCluster startWithoutLayerscope(Path dir, int workers, int cores)
            throws IOException, InterruptedException {
        return start(dir, workers, cores, libraries(), List.of());
    }

    /** The test class path without layerscope's classes and the tests' own. */
    private static String libraries() {
        return java.util.Arrays.stream(ChildJvm.classpath().split(java.io.File.pathSeparator))
                .filter(e -> !e.replaceAll("/+$", "").endsWith("/target/classes")
                        && !e.replaceAll("/+$", "").endsWith("/target/test-classes"))
                .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
    }

    private static StandaloneCluster start(Path dir, int workers, int cores, String classpath, List<String> workerOptions)
            throws IOException, InterruptedException {
        Path home = Files.createDirectories(dir.resolve("spark-home"));
        Files.createDirectories(home.resolve("jars"));
        Files.createDirectories(home.resolve("conf"));
        Files.writeString(home.resolve("RELEASE"), "layerscope test cluster: Spark from the test classpath\n");
        Map<String, String> env = Map.of(
                "SPARK_HOME", home.toString(),
                "SPARK_SCALA_VERSION", "2.13",
                "SPARK_DIST_CLASSPATH", classpath,
                "SPARK_LOG_DIR", dir.toString());
        Path driverOnly = Files.createDirectories(dir.resolve("driver-only"));
        boolean hide = canUnshare();
        List<Process> started = new ArrayList<>();
        Process m = null;
        try {
            m = ChildJvm.start(List.of("-Xmx256m", SPARK_LOGGING), "org.apache.spark.deploy.master.Master",
                    List.of("--host", "127.0.0.1", "--port", "0", "--webui-port", "0"), env, dir.resolve("master.log"));
            // the Master binds a port of its own choosing: one picked here beforehand could be taken meanwhile
            String url = awaitMasterUrl(m, dir.resolve("master.log"));
            for (int i = 0; i < workers; i++) {
                Path work = Files.createDirectories(dir.resolve("work-" + i));
                List<String> jvm = new ArrayList<>(List.of("-Xmx256m", SPARK_LOGGING));
                jvm.addAll(workerOptions);
                ProcessBuilder pb = ChildJvm.builder(jvm, "org.apache.spark.deploy.worker.Worker",
                        List.of(url, "--host", "127.0.0.1", "--cores", Integer.toString(cores), "--memory", "2g", "--webui-port", "0",
                                "--work-dir", work.toString()), env, dir.resolve("worker-" + i + ".log"));
                if (hide) {
                    List<String> cmd = new ArrayList<>(List.of("unshare", "-m", "--propagation", "private", "sh", "-c",
                            "mount -t tmpfs -o size=16m tmpfs \"$0\" && exec \"$@\"", driverOnly.toString()));
                    cmd.addAll(pb.command());
                    pb.command(cmd);
                }
                started.add(pb.start());
            }
            StandaloneCluster c = new StandaloneCluster(dir, url, m, started, hide ? driverOnly : null);
            c.awaitWorkers();
            return c;
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            started.forEach(p -> ChildJvm.stop(p.toHandle(), 5_000));
            if (m != null) {
                ChildJvm.stop(m.toHandle(), 5_000);
            }
            throw e;
        }
    }

    /** Workers retry the Master until it listens; ready when each logged its registration. */
    private void awaitWorkers() throws IOException, InterruptedException {
        long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
        while (true) {
            int registered = 0;
            for (int i = 0; i < workers.size(); i++) {
                if (log("worker-" + i).contains("Successfully registered with master")) {
                    registered++;
                }
            }
            if (registered == workers.size()) {
                return;
            }
            if (!master.isAlive() || workers.stream().anyMatch(p -> !p.isAlive())) {
                throw new IllegalStateException("a cluster process died while starting; master log:\n" + log("master"));
            }
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException(registered + " of " + workers.size()
                        + " workers registered within " + START_TIMEOUT_MS / 1000 + " s; master log:\n" + log("master"));
            }
            Thread.sleep(250);
        }
    }

    /** A directory the driver sees and the executors do not (empty for them), or empty when not possible here. */
    Optional<Path> driverOnly() {
        return Optional.ofNullable(hidden);
    }

    private static boolean canUnshare() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("unshare", "-m", "--propagation", "private", "true").redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS) && p.exitValue() == 0;
    }

    String masterUrl() {
        return masterUrl;
    }

    String log(String name) throws IOException {
        Path f = dir.resolve(name + ".log");
        return Files.exists(f) ? Files.readString(f) : "";
    }

    /** The executor processes the Workers launched (CoarseGrainedExecutorBackend JVMs). */
    List<ProcessHandle> executors() {
        List<ProcessHandle> out = new ArrayList<>();
        for (Process w : workers) {
            w.toHandle().children()
                    .filter(h -> commandLine(h.pid()).contains("org.apache.spark.executor.CoarseGrainedExecutorBackend"))
                    .forEach(out::add);
        }
        return out;
    }

    /** The process of executor {@code id} (Spark's executor id, as in TaskInfo.executorId()). */
    Optional<ProcessHandle> executor(String id) {
        return executors().stream().filter(h -> {
            List<String> a = commandLine(h.pid());
            int i = a.indexOf("--executor-id");
            return i >= 0 && i + 1 < a.size() && a.get(i + 1).equals(id);
        }).findFirst();
    }

    /**
     * A process's arguments from /proc (ProcessHandle.Info leaves them out for long command lines,
     * such as an executor's with its classpath).
     */
    static List<String> commandLine(long pid) {
        try {
            String raw = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")),
                    java.nio.charset.StandardCharsets.UTF_8);
            return List.of(raw.split("\0"));
        } catch (IOException | RuntimeException gone) {
            return List.of();
        }
    }

    /**
     * A memory figure of a process from /proc/PID/status, in bytes: VmRSS (all resident memory),
     * RssAnon (heap, native allocations: where a leak shows) or RssFile (mapped files such as
     * memory-mapped weights); empty when the process is gone.
     */
    static OptionalLong memory(long pid, String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith(field + ":")) {
                    return OptionalLong.of(Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024);
                }
            }
        } catch (IOException | RuntimeException gone) {
            return OptionalLong.empty();
        }
        return OptionalLong.empty();
    }

    /** Stops the Workers (and with them their executors), then the Master; bounded waits. */
    @Override
    public void close() {
        for (Process w : workers) {
            ChildJvm.stop(w.toHandle(), 10_000);
        }
        ChildJvm.stop(master.toHandle(), 10_000);
    }

    /** The URL the Master logs once it listens ("Starting Spark master at spark://host:port"). */
    private static String awaitMasterUrl(Process master, Path log) throws IOException, InterruptedException {
        java.util.regex.Pattern started = java.util.regex.Pattern.compile("Starting Spark master at (spark://[\\w.-]+:\\d+)\\s*$", java.util.regex.Pattern.MULTILINE);
        long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
        while (true) {
            String text = Files.exists(log) ? Files.readString(log) : "";
            java.util.regex.Matcher m = started.matcher(text);
            if (m.find()) {
                return m.group(1);
            }
            if (!master.isAlive() || System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("the Master did not start" + (master.isAlive() ? " within "
                        + START_TIMEOUT_MS / 1000 + " s" : "") + "; master log:\n" + text);
            }
            Thread.sleep(100);
        }
    }
}
