package io.layerscope.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A failed command's paragraph is the last thing on standard error, whatever the JVM's exit prints
 * after it (Spark's threads finishing a stopped job, seen after a task ran out of heap); a
 * successful command's exit is left alone.
 */
class QuietExitIT {
    @TempDir
    Path tmp;

    @Test
    void nothingPrintedWhileTheJvmExitsFollowsTheErrorParagraph() throws Exception {
        Path missing = tmp.resolve("no-such-model");
        String output = run("failed", "sweep", "--model", missing.toString(), "--out", tmp.resolve("out").toString());
        // the JVM's own notice of the incubator module comes first; the paragraph is the only line after it
        List<String> lines = output.strip().lines().filter(l -> !l.startsWith("WARNING: Using incubator modules")).toList();
        assertEquals(1, lines.size(), output);
        assertTrue(lines.get(0).startsWith("error: --model " + missing + ": no such directory"), output);
    }

    @Test
    void aSuccessfulCommandsExitIsNotSilenced() throws Exception {
        String output = run("succeeded", "--version");
        assertTrue(output.contains("late teardown noise"), output);
        assertTrue(output.contains("late log noise"), output);
    }

    private String run(String name, String... args) throws Exception {
        Path log = tmp.resolve(name + ".log");
        Process p = ChildJvm.start(List.of("-Xmx256m"), LateStderrProbe.class.getName(), List.of(args), Map.of(), log);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "did not finish");
        String output = Files.readString(log);
        assertEquals(name.equals("failed") ? 2 : 0, p.exitValue(), output);
        return output;
    }
}
