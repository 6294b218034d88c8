package io.layerscope.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where the executors find layerscope's classes, against a standalone cluster of separate processes
 * whose executors have Spark but not layerscope (nodes whose Spark lacks the application jar); the
 * driver is a JVM of its own, which has it.
 * <ul>
 *   <li>Nothing sent (LAYERSCOPE_EXECUTOR_JAR=none on such nodes): the sweep must end with the user
 *       error that names the class, status 2 and no results directory, not with Spark's job abort
 *       ({@code MissingExecutorJar}'s reading of the message Spark really sends).</li>
 *   <li>The jar at a URI (LAYERSCOPE_EXECUTOR_JAR=https://..., which submit.sh passes as
 *       {@code spark.layerscope.executorJar}): the executors fetch it and the sweep runs; the driver
 *       only asks for its first byte, never downloads it.</li>
 * </ul>
 */
class ExecutorJarIT {
    private static final Pattern ERROR = Pattern.compile("error: the executors cannot load layerscope's classes"
            + " \\(io\\.layerscope\\.[\\w.$]+ is not on their class path\\): they lack the application jar\\. With"
            + " LAYERSCOPE_EXECUTOR_JAR=none each executor's class path must hold it .*\\(docs/CLUSTER\\.md\\)");

    @TempDir
    static Path tmp;

    static StandaloneCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = StandaloneCluster.startWithoutLayerscope(Files.createDirectories(tmp.resolve("cluster")), 1, 1);
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void executorsWithoutTheJarEndTheSweepWithAUserError() throws Exception {
        Path out = tmp.resolve("missing/run");
        Run r = sweep(out, List.of());
        assertEquals(2, r.status(), r.output());
        List<String> errors = r.output().lines().filter(l -> l.startsWith("error: ")).toList();
        assertEquals(1, errors.size(), r.output());
        assertTrue(ERROR.matcher(errors.get(0)).matches(), errors.get(0));
        assertFalse(Files.exists(out));
        assertFalse(Files.exists(out.getParent()), "the directory made for " + out + " stays after a failed run");
    }

    @Test
    void executorsRunFromAJarAtAUriTheDriverNeverDownloads() throws Exception {
        Path jar = Path.of(System.getProperty("layerscope.repo", ".")).resolve("target/layerscope.jar");
        assertTrue(Files.exists(jar), "the application jar (mvn package) is needed: " + jar);
        List<String> requests = new CopyOnWriteArrayList<>();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/apps/layerscope.jar", exchange -> {
            String range = exchange.getRequestHeaders().getFirst("Range");
            requests.add(exchange.getRequestMethod() + (range == null ? "" : " " + range));
            try (OutputStream body = exchange.getResponseBody()) {
                if ("bytes=0-0".equals(range)) {
                    exchange.sendResponseHeaders(206, 1);
                    try (var in = Files.newInputStream(jar)) {
                        body.write(in.read());
                    }
                } else {
                    exchange.sendResponseHeaders(200, Files.size(jar));
                    Files.copy(jar, body);
                }
            }
            exchange.close();
        });
        server.start();
        try {
            String uri = "http://127.0.0.1:" + server.getAddress().getPort() + "/apps/layerscope.jar";
            Path out = tmp.resolve("uri/run");
            Run r = sweep(out, List.of("-Dspark.layerscope.executorJar=" + uri));
            assertEquals(0, r.status(), r.output());
            assertTrue(Files.exists(out.resolve("layers.parquet")));
            // the driver's check (its first byte), then the one executor's download
            assertEquals(List.of("GET bytes=0-0", "GET"), requests);
        } finally {
            server.stop(0);
        }
    }

    private record Run(int status, String output) {
    }

    private static Run sweep(Path out, List<String> jvmFlags) throws IOException, InterruptedException {
        Path log = Files.createTempFile(tmp, "driver-", ".log");
        List<String> flags = new ArrayList<>(List.of(ChildJvm.layerscopeLogging(), "-Dspark.master=" + cluster.masterUrl(),
                "-Dspark.executor.memory=1g"));
        flags.addAll(jvmFlags);
        Process driver = ChildJvm.start(flags, "io.layerscope.cli.Main", List.of("sweep", "--model", "demo",
                "--cache-dir", tmp.resolve("cache").toString(), "--no-png", "--nsamples", "4", "--seqlen", "64",
                "--out", out.toString()), Map.of(), log);
        ChildJvm.awaitExit(driver, 240, "the sweep");
        return new Run(driver.exitValue(), Files.readString(log));
    }
}
