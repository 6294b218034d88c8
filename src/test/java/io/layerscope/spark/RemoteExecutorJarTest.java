package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.sun.net.httpserver.HttpServer;
import io.layerscope.LayerscopeException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The application jar at a URI, checked by the driver before it adds it for the executors (that they
 * then run from it, and the driver never downloads it: {@code ExecutorJarIT}).
 */
class RemoteExecutorJarTest {
    @TempDir
    Path tmp;

    HttpServer server;
    String base;
    final List<String> requests = new CopyOnWriteArrayList<>();

    @BeforeEach
    void serveAJar() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            requests.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath() + " "
                    + exchange.getRequestHeaders().getFirst("Range"));
            boolean found = exchange.getRequestURI().getPath().equals("/apps/layerscope.jar");
            exchange.sendResponseHeaders(found ? 200 : 404, -1);
            exchange.close();
        });
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void aJarTheDriverCanReadPasses() throws IOException {
        RemoteExecutorJar.check(base + "/apps/layerscope.jar", new Configuration(false));
        assertEquals(List.of("GET /apps/layerscope.jar bytes=0-0"), requests);
        Path jar = Files.writeString(tmp.resolve("layerscope.jar"), "a jar");
        RemoteExecutorJar.check(jar.toUri().toString(), new Configuration(false));
    }

    @Test
    void oneItCannotReadIsAUserErrorNamingIt() {
        assertEquals(message(base + "/apps/old.jar", "HTTP 404"), failure(base + "/apps/old.jar"));
        String missing = tmp.resolve("missing.jar").toUri().toString();
        assertEquals(message(missing, "no such file"), failure(missing));
        assertEquals(message(tmp.toUri().toString(), "a directory"), failure(tmp.toUri().toString()));
        assertEquals(message("layerscope.jar", "no scheme such as hdfs:// or https://"), failure("layerscope.jar"));
        String closed = "http://127.0.0.1:1/layerscope.jar";
        assertEquals(message(closed, "ConnectException: Connection refused"), failure(closed));
    }

    private static String failure(String uri) {
        return assertThrows(LayerscopeException.class, () -> RemoteExecutorJar.check(uri, new Configuration(false)))
                .getMessage();
    }

    private static String message(String uri, String why) {
        return "LAYERSCOPE_EXECUTOR_JAR names " + uri + ", which the driver cannot read (" + why + "): the executors"
                + " read the application jar from there. Give a URI every node reaches, or leave"
                + " LAYERSCOPE_EXECUTOR_JAR unset to send the jar with the job";
    }
}
