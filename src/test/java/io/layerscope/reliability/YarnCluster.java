package io.layerscope.reliability;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A YARN cluster on 127.0.0.1 ({@link YarnTestClusterMain} in a JVM of its own): a ResourceManager
 * and one NodeManager, whose containers are real processes. Clients find it through
 * {@link #confDir()} (HADOOP_CONF_DIR); containers' logs stay under {@link #logDirs()} after their
 * application ends.
 *
 * <pre>{@code
 * try (YarnCluster yarn = YarnCluster.start(dir, 6144, 4)) { ... HADOOP_CONF_DIR=yarn.confDir() ... }
 * }</pre>
 */
final class YarnCluster implements AutoCloseable {
    private static final long START_TIMEOUT_MS = 120_000;

    private final Path dir;
    private final Process process;

    private YarnCluster(Path dir, Process process) {
        this.dir = dir;
        this.process = process;
    }

    /** Starts the cluster with a NodeManager of {@code memoryMb} and {@code vcores}; returns once it serves. */
    static YarnCluster start(Path dir, int memoryMb, int vcores) throws IOException, InterruptedException {
        Path log = dir.resolve("yarn.log");
        // MiniYARNCluster keeps its directories under test.build.data; containers need JAVA_HOME
        Process p = ChildJvm.start(List.of("-Xmx768m", "-Dtest.build.data=" + dir.resolve("data")),
                YarnTestClusterMain.class.getName(), List.of(dir.toString(), Integer.toString(memoryMb),
                        Integer.toString(vcores)), Map.of("JAVA_HOME", System.getProperty("java.home")), log);
        YarnCluster cluster = new YarnCluster(dir, p);
        long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
        while (!Files.exists(cluster.confDir().resolve("yarn-site.xml"))) {
            if (!p.isAlive() || System.currentTimeMillis() > deadline) {
                cluster.close();
                throw new IllegalStateException("the YARN cluster did not start:\n" + Files.readString(log));
            }
            Thread.sleep(200);
        }
        return cluster;
    }

    /** The client configuration (yarn-site.xml with the ResourceManager's address). */
    Path confDir() {
        return dir.resolve("conf");
    }

    /** The NodeManager's log directories: one per application, one per container within it. */
    List<Path> logDirs() throws IOException {
        try (Stream<Path> s = Files.walk(dir.resolve("data"), 3)) {
            return s.filter(p -> p.getFileName().toString().contains("-logDir-nm-")).toList();
        }
    }

    /** The containers' directories of an application (by its id), from every log directory. */
    List<Path> containers(String applicationId) throws IOException {
        List<Path> found = new java.util.ArrayList<>();
        for (Path logs : logDirs()) {
            Path app = logs.resolve(applicationId);
            if (Files.isDirectory(app)) {
                try (Stream<Path> s = Files.list(app)) {
                    s.sorted().forEach(found::add);
                }
            }
        }
        return found;
    }

    @Override
    public void close() throws InterruptedException {
        try {
            process.getOutputStream().close(); // the main class stops the cluster when its input ends
        } catch (IOException ignored) {
            // already gone
        }
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            ChildJvm.stop(process.toHandle(), 5_000);
        }
    }
}
