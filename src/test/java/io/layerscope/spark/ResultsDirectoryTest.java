package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerscope.LayerscopeException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResultsDirectoryTest {

    private static String host() {
        String owner = ResultsDirectory.owner();
        return owner.substring(owner.indexOf('@') + 1);
    }

    @Test
    void theLockNamesThisProcessAndGoesWithTheDirectory(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("results");
        try (ResultsDirectory dir = ResultsDirectory.create(out, false)) {
            assertEquals(ProcessHandle.current().pid() + "@" + host() + "\n", Files.readString(tmp.resolve(".results.lock")));
        }
        assertFalse(Files.exists(tmp.resolve(".results.lock")));
    }

    @Test
    void aLockLeftByAProcessThatIsGoneIsTakenOverWithItsStaging(@TempDir Path tmp) throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Path lock = tmp.resolve(".results.lock");
        Files.writeString(lock, gone.pid() + "@" + host() + "\n");
        Path staging = Files.createDirectories(tmp.resolve(".results.staging-deadbeef").resolve("png"));
        Files.writeString(staging.resolve("half.png"), "x");
        Path out = tmp.resolve("results");
        PrintStream stderr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try (ResultsDirectory dir = ResultsDirectory.create(out, false)) {
            assertEquals(ResultsDirectory.owner() + "\n", Files.readString(lock));
            assertFalse(Files.exists(tmp.resolve(".results.staging-deadbeef")), "the dead job's staging directory stays");
        } finally {
            System.setErr(stderr);
        }
        assertEquals("layerscope: removed the lock and staging files of " + out + " left by process " + gone.pid() + "@"
                + host() + ", which is no longer running\n", captured.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aLockOfARunningProcessAnotherHostOrNoOwnerRefuses(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("results");
        Path lock = tmp.resolve(".results.lock");
        for (String content : List.of(ProcessHandle.current().pid() + "@" + host() + "\n", "1@another-host\n", "")) {
            Files.writeString(lock, content);
            LayerscopeException e = assertThrows(LayerscopeException.class, () -> ResultsDirectory.create(out, false));
            assertEquals("another layerscope job is writing " + out + " (lock file " + lock + " exists); wait for it,"
                    + " or delete the lock file if that job is no longer running", e.getMessage());
            assertEquals(content, Files.readString(lock), "the lock is left as it was");
        }
    }
}
