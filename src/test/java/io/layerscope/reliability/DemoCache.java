package io.layerscope.reliability;

import io.layerscope.model.DemoModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * One cache directory holding the demo model, generated once per test JVM (a few seconds) and shared
 * by the reliability tests; deleted when the JVM exits.
 */
final class DemoCache {
    private static Path dir;

    private DemoCache() {
    }

    static synchronized Path dir() {
        if (dir == null) {
            try {
                Path d = Files.createTempDirectory("layerscope-reliability-cache-");
                Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(d)));
                DemoModel.ensure(d);
                dir = d;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return dir;
    }

    static Path model() {
        return DemoModel.directory(dir());
    }

    static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort at exit
        }
    }
}
