package io.layerscope.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sweep interrupted by the user: the command runs in its own JVM (as submit.sh runs it, Spark's
 * launcher aside) and gets SIGINT, what Ctrl-C sends, once stage one has started, or while the
 * results are being written. It must leave no
 * results directory, no staging directory or lock beside it, nothing new in the model cache, no
 * calibration spill file in java.io.tmpdir and no Spark scratch directories.
 */
class InterruptIT {
    @TempDir
    Path tmp;
    /** The Spark setting (a JVM option of the child, as -D options go) naming the hook that holds the writing. */
    private static final String HOLD = "-Dspark.layerscope.hook=" + HoldResultsWriting.class.getName();
    /** The sweep replaces an earlier run's results (--overwrite), which must be left as they were. */
    private boolean overEarlierResults;

    @Test
    void sigintDuringStageOneLeavesNothingBehind() throws Exception {
        interruptAfter("stage 1: ", 500, "128");
    }

    /** Held by {@link HoldResultsWriting} with the layers table written and others being written: no race with the writing. */
    @Test
    void sigintWhileTheResultsAreWrittenLeavesNothingBehind() throws Exception {
        interruptAfter(HoldResultsWriting.HOLDING, 0, "8", "INT", 130, HOLD);
    }

    @Test
    void sigtermWhileTheResultsAreWrittenSaysSoAndLeavesNothingBehind() throws Exception {
        String output = interruptAfter(HoldResultsWriting.HOLDING, 0, "8", "TERM", 143, HOLD);
        assertTrue(output.contains("error: interrupted; incomplete results are not kept"), output);
        assertFalse(output.contains("RejectedExecutionException"), output);
        // the line is the last: no progress, no Spark log of the stop after it
        assertEquals("error: interrupted; incomplete results are not kept", output.strip().lines().reduce((a, b) -> b).orElse(""),
                output);
    }

    /**
     * Stopped amid stage two's tasks (held there by {@link HoldStageTwoTask}), Spark logged the
     * refused ones and the cancelled job after the line.
     */
    @Test
    void sigtermAmidStageTwoIsOneLineAndNothingAfter() throws Exception {
        String output = interruptAfter(HoldStageTwoTask.HOLDING, 0, "16", "TERM", 143,
                "-Dspark.layerscope.hook=" + HoldStageTwoTask.class.getName());
        assertEquals("error: interrupted; incomplete results are not kept", output.strip().lines().reduce((a, b) -> b).orElse(""),
                output);
    }

    /** With --verbose too the stop is told as the interrupt it was (and a stack trace follows), not as Spark's stop. */
    @Test
    void sigintWithVerboseSaysItWasInterrupted() throws Exception {
        String output = interruptAfter("stage 1: ", 500, "128", "INT", 130, "--verbose");
        assertEquals(List.of("error: interrupted; incomplete results are not kept"),
                output.lines().filter(l -> l.startsWith("error: ")).toList(), output);
    }

    /** Stopped before its results are in place, a sweep with --overwrite leaves the earlier ones, and says so. */
    @Test
    void sigintWithOverwriteLeavesTheEarlierResultsAndSaysSo() throws Exception {
        overEarlierResults = true;
        String output = interruptAfter("stage 1: ", 500, "128", "INT", 130);
        assertEquals("error: interrupted; incomplete results are not kept; the earlier results in "
                + tmp.resolve("runs").resolve("interrupted") + " are unchanged",
                output.strip().lines().reduce((a, b) -> b).orElse(""), output);
    }

    /** Sequential mode's states wait in spark.local.dir between rounds: none may stay there. */
    @Test
    void sigintDuringTheSequentialRoundsLeavesNothingBehind() throws Exception {
        interruptAfter("sequential: block 0 of 0..", 0, "32", "INT", 130, "--mode", "sequential");
    }

    private void interruptAfter(String line, long delayMillis, String nsamples) throws Exception {
        interruptAfter(line, delayMillis, nsamples, "INT", 130);
    }

    /**
     * Starts a sweep of {@code nsamples} windows (with {@code options} besides, those starting with -D
     * to its JVM), sends {@code signal}
     * {@code delayMillis} after a line starting with {@code line}; returns the sweep's output.
     */
    private String interruptAfter(String line, long delayMillis, String nsamples, String signal, int status,
                                  String... options) throws Exception {
        return interruptWhen("a line starting with \"" + line + "\"", log -> log.lines().anyMatch(l -> l.startsWith(line)),
                delayMillis, nsamples, signal, status, options);
    }

    /** What the sweep has done (its output so far) before the signal goes: true once it is time. */
    private interface Ready {
        boolean test(String log) throws IOException;
    }

    private String interruptWhen(String what, Ready ready, long delayMillis, String nsamples, String signal, int status,
                                 String... options) throws Exception {
        Path cache = DemoCache.dir();
        TreeSet<String> cacheBefore = tree(cache);
        Path out = tmp.resolve("runs").resolve("interrupted");
        Files.createDirectories(out.getParent());
        Path javaTmp = Files.createDirectories(tmp.resolve("java-tmp"));
        Path sparkLocal = Files.createDirectories(tmp.resolve("spark-local"));
        Path log = tmp.resolve("sweep.log");
        List<String> args = new java.util.ArrayList<>(List.of("sweep", "--model", "demo", "--cache-dir", cache.toString(),
                "--nsamples", nsamples, "--seqlen", "128", "--shards", "8", "--no-png", "--out", out.toString()));
        List<String> jvm = new java.util.ArrayList<>(List.of(ChildJvm.layerscopeLogging(), "-Xmx2g", "-Dspark.master=local[2]",
                "-Dai.djl.pytorch.num_threads=1", "-Djava.io.tmpdir=" + javaTmp, "-Dspark.local.dir=" + sparkLocal));
        for (String option : options) {
            (option.startsWith("-D") ? jvm : args).add(option);
        }
        TreeSet<String> earlier = null;
        if (overEarlierResults) {
            Files.createDirectories(out.resolve("layers.parquet"));
            Files.writeString(out.resolve("run.json"), "{\"tool\": \"layerscope\"}");
            earlier = tree(out);
            args.add("--overwrite");
        }
        Process p = ChildJvm.start(jvm, "io.layerscope.cli.Main", args, Map.of(), log);
        try {
            await(p, log, what, ready, 180);
            Thread.sleep(delayMillis);
            ChildJvm.signal(p.pid(), signal);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the sweep did not stop within 60 s of SIG" + signal);
        } finally {
            ChildJvm.stop(p.toHandle(), 5_000);
        }
        String output = Files.readString(log);
        System.err.println("interrupted sweep's last lines: " + output.lines().skip(Math.max(0, output.lines().count() - 3)).toList());
        assertEquals(status, p.exitValue(), output);
        assertFalse(output.contains("sweep: "), "the sweep finished before the interrupt:\n" + output);
        assertFalse(output.contains("error: unexpected"), output);
        if (earlier != null) {
            assertEquals(earlier, tree(out), "the earlier results changed");
            assertEquals(List.of("interrupted"), list(out.getParent()), "beside the results directory");
        } else {
            assertFalse(Files.exists(out), output);
            assertEquals(List.of(), list(out.getParent()), "beside the results directory");
        }
        assertEquals(cacheBefore, tree(cache), "the model cache changed");
        assertEquals(List.of(), list(javaTmp), "java.io.tmpdir (calibration spill files)");
        assertEquals(List.of(), list(sparkLocal), "spark.local.dir");
        return output;
    }

    private static void await(Process p, Path log, String what, Ready ready, int seconds) throws Exception {
        long deadline = System.currentTimeMillis() + seconds * 1000L;
        while (System.currentTimeMillis() < deadline) {
            if (Files.exists(log) && ready.test(Files.readString(log))) {
                return;
            }
            if (!p.isAlive()) {
                throw new AssertionError("the sweep ended before " + what + ":\n" + Files.readString(log));
            }
            Thread.sleep(10);
        }
        throw new AssertionError("no " + what + " within " + seconds + " s:\n" + Files.readString(log));
    }

    private static List<String> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(q -> q.getFileName().toString()).sorted().toList();
        }
    }

    private static TreeSet<String> tree(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            TreeSet<String> all = new TreeSet<>();
            s.forEach(q -> all.add(root.relativize(q).toString()));
            return all;
        }
    }
}
