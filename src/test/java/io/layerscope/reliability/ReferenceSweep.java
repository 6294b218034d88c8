package io.layerscope.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The sweep the reliability tests repeat under faults, on a cluster and concurrently: the demo model,
 * 32 windows of 128 tokens in 4 calibration shards, no pictures. Its clean result on {@code local[2]}
 * is computed once per test JVM and is what every other run must equal.
 */
final class ReferenceSweep {
    private static Path dir;
    private static SweepResults results;
    private static SweepResults sequential;

    private ReferenceSweep() {
    }

    /** Command-line arguments of the sweep into {@code out}, plus {@code more}. */
    static String[] args(Path out, String... more) {
        List<String> args = new ArrayList<>(List.of("sweep", "--model", "demo", "--cache-dir", DemoCache.dir().toString(),
                "--nsamples", "32", "--seqlen", "128", "--shards", "4", "--no-png", "--out", out.toString()));
        args.addAll(List.of(more));
        return args.toArray(new String[0]);
    }

    /**
     * The sweep again into {@code out} with {@code more}, in a fresh local[2] session after the clean run's;
     * asserts it succeeded.
     */
    static SweepResults rerun(Path out, String... more) throws IOException {
        results();
        TestSessions.start("local[2]", Map.of());
        Cli.Run r = Cli.run(args(out, more));
        assertEquals(0, r.status(), r.err());
        return SweepResults.read(out);
    }

    /** The results directory of the clean run. */
    static synchronized Path dir() {
        results();
        return dir;
    }

    /** The clean local[2] results (runs the sweep in a fresh local[2] session the first time). */
    static synchronized SweepResults results() {
        if (results == null) {
            try {
                Path parent = Files.createTempDirectory("layerscope-reference-");
                Runtime.getRuntime().addShutdownHook(new Thread(() -> DemoCache.deleteTree(parent)));
                Path out = parent.resolve("local-2");
                TestSessions.start("local[2]", Map.of());
                Cli.Run r = Cli.run(args(out));
                assertEquals(0, r.status(), r.err());
                dir = out;
                results = SweepResults.read(out);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return results;
    }

    /** The clean local[2] results of the same sweep in --mode sequential (run once per test JVM). */
    static synchronized SweepResults sequentialResults() {
        if (sequential == null) {
            try {
                Path parent = Files.createTempDirectory("layerscope-reference-sequential-");
                Runtime.getRuntime().addShutdownHook(new Thread(() -> DemoCache.deleteTree(parent)));
                Path out = parent.resolve("local-2");
                TestSessions.start("local[2]", Map.of());
                Cli.Run r = Cli.run(args(out, "--mode", "sequential"));
                assertEquals(0, r.status(), r.err());
                sequential = SweepResults.read(out);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return sequential;
    }
}
