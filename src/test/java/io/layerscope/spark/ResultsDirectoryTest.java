package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        try (ResultsDirectory dir = ResultsDirectory.create(out)) {
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
        try (ResultsDirectory dir = ResultsDirectory.create(out)) {
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
            LayerscopeException e = assertThrows(LayerscopeException.class, () -> ResultsDirectory.create(out));
            assertEquals("another layerscope job is writing " + out + " (lock file " + lock + " exists); wait for it,"
                    + " or delete the lock file if that job is no longer running", e.getMessage());
            assertEquals(content, Files.readString(lock), "the lock is left as it was");
        }
    }

    @Test
    void anInterruptWaitsForTheStepUnderWayThenDeletesAllAndNoStepRunsAfter(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("results");
        try (ResultsDirectory dir = ResultsDirectory.create(out)) {
            java.util.concurrent.CountDownLatch inStep = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch finish = new java.util.concurrent.CountDownLatch(1);
            Thread writer = new Thread(() -> {
                try {
                    dir.write(staging -> {
                        Files.writeString(staging.resolve("first.parquet"), "x");
                        inStep.countDown();
                        try {
                            finish.await();
                        } catch (InterruptedException e) {
                            throw new java.io.InterruptedIOException();
                        }
                        Files.writeString(staging.resolve("second.parquet"), "y");
                    });
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            writer.start();
            inStep.await();
            Thread hook = new Thread(dir::interrupted);
            hook.start();
            hook.join(300);
            assertTrue(hook.isAlive(), "the clean-up waits for the step under way");
            assertTrue(Files.exists(dir.staging().resolve("first.parquet")));
            finish.countDown();
            hook.join(10_000);
            writer.join(10_000);
            assertFalse(Files.exists(dir.staging()), "the staging directory is deleted after the step");
            java.io.InterruptedIOException e = assertThrows(java.io.InterruptedIOException.class,
                    () -> dir.write(staging -> Files.createDirectories(staging.resolve("png"))));
            assertEquals("interrupted: the results are not kept", e.getMessage());
            assertFalse(Files.exists(dir.staging()), "no later step recreates it");
            LayerscopeException c = assertThrows(LayerscopeException.class, dir::commit);
            assertEquals("interrupted: the results in " + dir.staging() + " are not kept", c.getMessage());
            assertFalse(Files.exists(out));
        }
        try (java.util.stream.Stream<Path> left = Files.list(tmp)) {
            assertEquals(List.of(), left.toList());
        }
    }

    @Test
    void stepsRunAtOnceAndTheCommitWaitsForThemAll(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("results");
        try (ResultsDirectory dir = ResultsDirectory.create(out)) {
            java.util.concurrent.CountDownLatch inFirst = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch secondRan = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
            boolean[] sawSecond = {false};
            Thread first = new Thread(() -> {
                try {
                    dir.write(staging -> {
                        inFirst.countDown();
                        try {
                            sawSecond[0] = secondRan.await(10, java.util.concurrent.TimeUnit.SECONDS);
                            release.await(10, java.util.concurrent.TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            throw new java.io.InterruptedIOException();
                        }
                        Files.writeString(staging.resolve("activation_norms.parquet"), "x");
                    });
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            first.start();
            inFirst.await();
            // a second step while the first is under way
            dir.write(staging -> {
                Files.writeString(staging.resolve("layers.parquet"), "y");
                secondRan.countDown();
            });
            Thread committer = new Thread(dir::commit);
            committer.start();
            committer.join(300);
            assertTrue(committer.isAlive(), "the commit waits for the step under way");
            assertFalse(Files.exists(out));
            release.countDown();
            committer.join(10_000);
            first.join(10_000);
            assertTrue(sawSecond[0], "the second step ran while the first was under way");
            assertEquals("x", Files.readString(out.resolve("activation_norms.parquet")));
            assertEquals("y", Files.readString(out.resolve("layers.parquet")));
        }
    }
}
