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
        return start(dir, memoryMb, vcores, 0);
    }

    /**
     * As {@link #start(Path, int, int)}, the NodeManager offering {@code gpus} of YARN's {@code yarn.io/gpu}
     * too, and as many listed by an {@code nvidia-smi} in {@link #binDir()} (a script, as conf/gpu/discover-gpus.sh
     * asks it): no GPU is behind them.
     */
    static YarnCluster start(Path dir, int memoryMb, int vcores, int gpus) throws IOException, InterruptedException {
        Path log = dir.resolve("yarn.log");
        List<String> args = new java.util.ArrayList<>(List.of(dir.toString(), Integer.toString(memoryMb),
                Integer.toString(vcores)));
        // MiniYARNCluster keeps its directories under test.build.data; containers need JAVA_HOME
        Map<String, String> env = new java.util.HashMap<>(Map.of("JAVA_HOME", System.getProperty("java.home")));
        if (gpus > 0) {
            args.add(Integer.toString(gpus));
            Path bin = Files.createDirectories(dir.resolve("bin"));
            StringBuilder indices = new StringBuilder();
            for (int i = 0; i < gpus; i++) {
                indices.append(i).append("\\n");
            }
            Files.writeString(bin.resolve("nvidia-smi"), "#!/bin/sh\nprintf '" + indices + "'\n");
            bin.resolve("nvidia-smi").toFile().setExecutable(true);
        }
        Process p = ChildJvm.start(List.of("-Xmx768m", "-Dtest.build.data=" + dir.resolve("data")),
                YarnTestClusterMain.class.getName(), args, env, log);
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

    /** Where the GPUs' nvidia-smi is, when the cluster was started with GPUs. */
    Path binDir() {
        return dir.resolve("bin");
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
