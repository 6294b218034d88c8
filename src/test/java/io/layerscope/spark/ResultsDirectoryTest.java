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
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResultsDirectoryTest {

    private static String host() {
        String owner = io.layerscope.OutputLock.owner();
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

    /**
     * A mount point cannot be renamed, so --overwrite's replacement would fail once the job is done:
     * refused at once, with or without --overwrite, and nothing is made beside it. /dev/shm is a
     * tmpfs mount on Linux machines (skipped where it is not).
     */
    @Test
    void aMountPointIsRefusedBeforeAnyWork(@TempDir Path tmp) throws Exception {
        Path shm = Path.of("/dev/shm");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(shm) && ResultsDirectory.isMountPoint(shm, shm.getParent()),
                "no mount point at /dev/shm");
        assertFalse(ResultsDirectory.isMountPoint(tmp.resolve("x").getParent(), tmp.getParent()), "a plain directory");
        List<String> before;
        try (Stream<Path> dev = Files.list(shm.getParent())) {
            before = dev.map(Path::toString).sorted().toList();
        }
        for (boolean overwrite : new boolean[] {false, true}) {
            assertEquals("--out /dev/shm is a mount point (a file system of its own), which cannot be renamed, and"
                    + " layerscope puts the results in place by renaming a complete directory; name a directory inside"
                    + " it, e.g. --out /dev/shm/run1", assertThrows(LayerscopeException.class,
                    () -> ResultsDirectory.create(shm, overwrite, java.util.Map.of())).getMessage());
            assertEquals("--save-pruned /dev/shm is a mount point (a file system of its own), which cannot be renamed, and"
                    + " layerscope puts the pruned model in place by renaming a complete directory; name a directory"
                    + " inside it, e.g. --save-pruned /dev/shm/model-pruned", assertThrows(LayerscopeException.class,
                    () -> ResultsDirectory.create(ResultsDirectory.Kind.PRUNED_CHECKPOINT, shm, overwrite,
                            java.util.Map.of())).getMessage());
        }
        try (Stream<Path> dev = Files.list(shm.getParent())) {
            assertEquals(before, dev.map(Path::toString).sorted().toList(), "nothing made beside it");
        }
    }

    /** A mount point's line of /proc/self/mountinfo: the fifth field, with a space (octal 040) in it. */
    @Test
    void mountinfoGivesTheMountPointWithItsEscapesUndone() {
        assertEquals("/mnt/my dir", ResultsDirectory.mountPoint(
                "36 35 98:0 /mnt1 /mnt/my\\040dir rw,noatime master:1 - ext3 /dev/root rw,errors=continue"));
        assertEquals(null, ResultsDirectory.mountPoint("short line"));
    }

    /**
     * A directory bind-mounted onto itself: the same file system as its parent, still not renamable
     * (needs root and mount; skipped otherwise).
     */
    @Test
    void aBindMountOfTheSameFileSystemIsAMountPoint(@TempDir Path tmp) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("bound"));
        org.junit.jupiter.api.Assumptions.assumeTrue(io.layerscope.fixtures.TestRequirements.isRoot(), "needs root");
        Process mount = new ProcessBuilder("mount", "--bind", dir.toString(), dir.toString()).redirectErrorStream(true).start();
        org.junit.jupiter.api.Assumptions.assumeTrue(mount.waitFor() == 0, "mount --bind not allowed here");
        try {
            assertTrue(ResultsDirectory.isMountPoint(dir, tmp));
            assertFalse(ResultsDirectory.isMountPoint(Files.createDirectories(dir.resolve("inside")), dir));
            assertTrue(assertThrows(LayerscopeException.class, () -> ResultsDirectory.create(dir, true, java.util.Map.of()))
                    .getMessage().startsWith("--out " + dir + " is a mount point"));
        } finally {
            new ProcessBuilder("umount", dir.toString()).start().waitFor();
        }
    }

    /** What stderr gets while {@code body} runs. */
    private static String stderrOf(ThrowingRunnable body) throws Exception {
        PrintStream stderr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            body.run();
        } finally {
            System.setErr(stderr);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    @FunctionalInterface
    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    /** A lock file no one holds (its job died: the kernel let its flock go) is taken, and that job's staging goes. */
    @Test
    void aLockLeftByAJobThatDiedIsTakenOverWithItsStaging(@TempDir Path tmp) throws Exception {
        Path lock = Files.writeString(tmp.resolve(".results.lock"), "4242@elsewhere\n");
        Path staging = Files.createDirectories(tmp.resolve(".results.staging-deadbeef").resolve("png"));
        Files.writeString(staging.resolve("half.png"), "x");
        Path notOurs = Files.createDirectories(tmp.resolve(".results.staging-mine"));
        Path out = tmp.resolve("results");
        String said = stderrOf(() -> {
            try (ResultsDirectory dir = ResultsDirectory.create(out)) {
                assertEquals(io.layerscope.OutputLock.owner() + "\n", Files.readString(lock));
                assertFalse(Files.exists(tmp.resolve(".results.staging-deadbeef")), "the dead job's staging directory stays");
            }
        });
        assertEquals("layerscope: removed the unfinished results of " + out + " (.results.staging-deadbeef) left by a"
                + " job that is no longer running\n", said);
        assertTrue(Files.isDirectory(notOurs), "a name this class does not make is left alone");
    }

    /**
     * A lock held, by this JVM or by another process, refuses; the kernel releases a killed
     * process's lock (kill -9 runs no clean-up), and the next job takes it.
     */
    @Test
    void aHeldLockRefusesUntilItsProcessDies(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("results");
        Path lock = tmp.resolve(".results.lock");
        try (ResultsDirectory first = ResultsDirectory.create(out)) {
            LayerscopeException e = assertThrows(LayerscopeException.class, () -> ResultsDirectory.create(out));
            assertEquals("another layerscope job is writing " + out + " (process " + io.layerscope.OutputLock.owner()
                    + " holds the lock " + lock + "); wait for it to finish, or choose another --out", e.getMessage());
        }
        assertFalse(Files.exists(lock));

        String python = "import fcntl, os, sys\n"
                + "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)\n"
                + "fcntl.flock(fd, fcntl.LOCK_EX)\n"
                + "os.write(fd, b'77@other\\n')\n"
                + "print('locked', flush=True)\n"
                + "sys.stdin.read()\n";
        Process holder = new ProcessBuilder(io.layerscope.fixtures.TestRequirements.python3(), "-c", python,
                lock.toString()).start();
        try {
            assertEquals("locked", new java.io.BufferedReader(new java.io.InputStreamReader(holder.getInputStream(),
                    StandardCharsets.UTF_8)).readLine());
            LayerscopeException e = assertThrows(LayerscopeException.class, () -> ResultsDirectory.create(out));
            assertEquals("another layerscope job is writing " + out + " (process 77@other holds the lock " + lock
                    + "); wait for it to finish, or choose another --out", e.getMessage());
        } finally {
            holder.destroyForcibly().waitFor();
        }
        try (ResultsDirectory taken = ResultsDirectory.create(out)) {
            assertEquals(io.layerscope.OutputLock.owner() + "\n", Files.readString(lock));
        }
    }

    /**
     * A job killed between its two renames left the old results aside and none in place: they are put
     * back, and the next job treats them as a DIR found at its start (without --overwrite: refused).
     * Killed after both, the old ones beside the new are what it was replacing: they go, said.
     */
    @Test
    void oldResultsMovedAsideByAJobThatDiedArePutBackOrGo(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("results");
        Path aside = Files.createDirectories(tmp.resolve(".results.replaced-0123abcd"));
        Files.writeString(aside.resolve("run.json"), "old");
        Files.createDirectories(tmp.resolve(".results.staging-89abcdef"));
        String[] message = {null};
        String said = stderrOf(() -> message[0] = assertThrows(LayerscopeException.class,
                () -> ResultsDirectory.create(out)).getMessage());
        assertEquals("results directory " + out + " already exists; choose another --out or pass --overwrite to replace"
                + " it", message[0]);
        assertEquals("old", Files.readString(out.resolve("run.json")));
        assertFalse(Files.exists(aside));
        assertEquals("layerscope: put " + out + " back from .results.replaced-0123abcd, where a job that stopped while"
                + " replacing it had moved it\nlayerscope: removed the unfinished results of " + out
                + " (.results.staging-89abcdef) left by a job that is no longer running\n", said);
        assertFalse(Files.exists(tmp.resolve(".results.lock")));

        // beside an empty DIR (made since, by hand) the old results are worth more: the user says which stays
        Files.delete(out.resolve("run.json"));
        Files.createDirectories(aside);
        Files.writeString(aside.resolve("run.json"), "older");
        assertEquals(out + " holds no complete results directory, and [.results.replaced-0123abcd] beside it holds the"
                + " one a job that stopped was replacing: keep one of them (rename the one to keep to results), then run"
                + " again", assertThrows(LayerscopeException.class,
                        () -> ResultsDirectory.create(out, true, java.util.Map.of())).getMessage());
        assertEquals("older", Files.readString(aside.resolve("run.json")));

        // beside a whole results directory (the dead job's new one), they are what it replaced: they go, said
        Files.writeString(out.resolve("run.json"), "{\"tool\": \"layerscope\"}");
        Files.createDirectories(out.resolve("layers.parquet"));
        said = stderrOf(() -> ResultsDirectory.create(out, true, java.util.Map.of()).close());
        assertFalse(Files.exists(aside), "the new results were in place");
        assertEquals("layerscope: removed [.results.replaced-0123abcd], the results directory a job that stopped had"
                + " just replaced with " + out + "\n", said);
        assertTrue(Files.isDirectory(out));
    }

    /**
     * Killed while deleting the old results after the new ones were in place, then DIR removed by the
     * user: what remained of the old ones is no version to put back. It goes, said.
     */
    @Test
    void whatAJobWasDeletingIsNeverPutBack(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("results");
        Path half = Files.createDirectories(tmp.resolve(".results.deleting-0123abcd"));
        Files.writeString(half.resolve("run.json"), "{\"tool\": \"layerscope\"}");   // the tables already gone
        String said = stderrOf(() -> {
            try (ResultsDirectory r = ResultsDirectory.create(out)) {
                assertTrue(Files.isDirectory(r.staging()));
            }
        });
        assertFalse(Files.exists(half));
        assertFalse(Files.exists(out), "nothing put back");
        assertEquals("layerscope: removed [.results.deleting-0123abcd], what remained of the results directory a job that"
                + " stopped had replaced with " + out + "\n", said);
    }

    /** A step still running when the job failed (a late picture) does not make the deleted staging directory again. */
    @Test
    void noStepWritesOnceTheResultsAreDiscardedOrInPlace(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("results");
        ResultsDirectory failed = ResultsDirectory.create(out);
        Path staging = failed.staging();
        failed.close();
        assertEquals("the results of " + out + " were discarded", assertThrows(java.io.IOException.class,
                () -> failed.write(dir -> Files.createDirectories(dir.resolve("png")))).getMessage());
        assertFalse(Files.exists(staging));
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of(), s.toList());
        }
        try (ResultsDirectory done = ResultsDirectory.create(out)) {
            done.write(dir -> Files.writeString(dir.resolve("run.json"), "{}"));
            done.commit();
            assertEquals("the results of " + out + " are in place already", assertThrows(java.io.IOException.class,
                    () -> done.write(dir -> Files.createDirectories(dir.resolve("png")))).getMessage());
            assertFalse(Files.exists(done.staging()));
        }
    }

    /** The old results replaced by a commit go, and only they: nothing is left beside DIR. */
    @Test
    void aCommitOverOldResultsLeavesNothingBeside(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("results");
        Files.createDirectories(out.resolve("layers.parquet"));
        Files.writeString(out.resolve("run.json"), "{\"tool\": \"layerscope\"}");
        try (ResultsDirectory r = ResultsDirectory.create(out, true, java.util.Map.of())) {
            Files.writeString(r.staging().resolve("run.json"), "new");
            r.commit();
        }
        assertEquals("new", Files.readString(out.resolve("run.json")));
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of("results"), s.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    /** A link at the lock file's place is not followed (the file it names would be created or locked). */
    @Test
    void aSymbolicLinkAsTheLockFileIsRefused(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("results");
        Path lock = Files.createSymbolicLink(tmp.resolve(".results.lock"), tmp.resolve("elsewhere"));
        assertEquals("the lock file " + lock + " of " + out + " is a symbolic link, which layerscope never makes: remove"
                + " it, then run again", assertThrows(LayerscopeException.class, () -> ResultsDirectory.create(out))
                        .getMessage());
        assertFalse(Files.exists(tmp.resolve("elsewhere")));
    }

    /** Two old versions aside and none in place: which to keep is the user's to say; nothing is touched. */
    @Test
    void severalOldVersionsAsideAreLeftForTheUserToChoose(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("results");
        Files.createDirectories(tmp.resolve(".results.replaced-00000001"));
        Files.createDirectories(tmp.resolve(".results.replaced-00000002"));
        assertEquals("2 earlier versions of " + out + " were left as [.results.replaced-00000001,"
                + " .results.replaced-00000002] by jobs that stopped while replacing it; rename the one to keep to"
                + " results and remove the others, then run again",
                assertThrows(LayerscopeException.class, () -> ResultsDirectory.create(out, true, java.util.Map.of()))
                        .getMessage());
        assertTrue(Files.isDirectory(tmp.resolve(".results.replaced-00000001")));
        assertTrue(Files.isDirectory(tmp.resolve(".results.replaced-00000002")));
        assertFalse(Files.exists(out));
        assertFalse(Files.exists(tmp.resolve(".results.lock")));
    }

    /** Until its replacement starts, the DIR --overwrite is to replace is said unchanged by a failure or a signal. */
    @Test
    void anEarlierDirectoryIsSaidUnchangedUntilTheCommit(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("results");
        io.layerscope.KeptOutputs.begin();
        try (ResultsDirectory first = ResultsDirectory.create(out)) {
            ReplaceableResultsTest.results(first.staging());
            first.commit();
        }
        assertEquals(List.of(), io.layerscope.KeptOutputs.unchanged(), "nothing was there to replace");
        try (ResultsDirectory failed = ResultsDirectory.create(out, true, java.util.Map.of())) {
            assertEquals(List.of("the earlier results in " + out + " are unchanged"), io.layerscope.KeptOutputs.unchanged());
        }
        assertEquals(List.of("the earlier results in " + out + " are unchanged"), io.layerscope.KeptOutputs.unchanged(),
                "after a job that did not commit");
        io.layerscope.KeptOutputs.begin();
        Path pruned = tmp.resolve("pruned");
        Files.createDirectories(pruned);   // empty: nothing to lose, so replaceable, and nothing to call earlier
        try (ResultsDirectory replaced = ResultsDirectory.create(out, true, java.util.Map.of());
             ResultsDirectory model = ResultsDirectory.create(ResultsDirectory.Kind.PRUNED_CHECKPOINT, pruned, true,
                     java.util.Map.of())) {
            ReplaceableResultsTest.results(replaced.staging());
            assertEquals(List.of("the earlier results in " + out + " are unchanged"), io.layerscope.KeptOutputs.unchanged());
            replaced.commit();
            assertEquals(List.of(), io.layerscope.KeptOutputs.unchanged(), "the results were replaced");
        }
        io.layerscope.KeptOutputs.begin();
    }

    /** With --overwrite too, a directory made meanwhile that --overwrite may not replace keeps the results beside it. */
    @Test
    void aForeignDirectoryThatAppearsWithOverwriteKeepsTheResultsBesideIt(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("results");
        try (ResultsDirectory dir = ResultsDirectory.create(out, true, java.util.Map.of())) {
            Files.writeString(dir.staging().resolve("run.json"), "new");
            Files.createDirectories(out);
            Files.writeString(out.resolve("notes.txt"), "mine");
            String m = assertThrows(LayerscopeException.class, dir::commit).getMessage();
            assertTrue(m.startsWith("--overwrite refuses to replace --out " + out + ": it is not a layerscope results"
                    + " directory (no run.json)"), m);
            assertTrue(m.contains("; the results are in " + tmp.resolve("results.new-")), m);
        }
        assertEquals("mine", Files.readString(out.resolve("notes.txt")));
        try (var s = Files.list(tmp)) {
            Path aside = s.filter(p -> p.getFileName().toString().startsWith("results.new-")).findFirst().orElseThrow();
            assertEquals("new", Files.readString(aside.resolve("run.json")));
        }
    }

    /** A directory made at DIR while the job ran (not by a layerscope job: the lock refuses those) is not replaced. */
    @Test
    void aDirectoryThatAppearsWhileTheJobRunsKeepsTheResultsBesideIt(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("results");
        Path aside;
        try (ResultsDirectory dir = ResultsDirectory.create(out)) {
            Files.writeString(dir.staging().resolve("run.json"), "new");
            Files.createDirectories(out.resolve("theirs"));
            LayerscopeException e = assertThrows(LayerscopeException.class, dir::commit);
            assertTrue(e.getMessage().startsWith("results directory " + out + " appeared while the job ran; the results"
                    + " are in " + tmp.resolve("results.new-")), e.getMessage());
            aside = Path.of(e.getMessage().substring(e.getMessage().indexOf(" are in ") + 8, e.getMessage().length() - 8));
        }
        assertEquals("new", Files.readString(aside.resolve("run.json")), "kept after close");
        assertTrue(Files.isDirectory(out.resolve("theirs")));
    }

    /**
     * With --overwrite, a directory made at DIR between moving the old one aside and renaming the new
     * one in is not replaced; the old one goes where no later run clears it, and the message says
     * where all three are.
     */
    @Test
    void aDirectoryThatAppearsBetweenTheTwoRenamesKeepsBothVersionsBesideIt(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("results");
        try (ResultsDirectory first = ResultsDirectory.create(out)) {
            ReplaceableResultsTest.results(first.staging());
            Files.writeString(first.staging().resolve("run.json"), "{\"tool\": \"layerscope\", \"toolVersion\": \"old\"}");
            first.commit();
        }
        try (ResultsDirectory dir = ResultsDirectory.create(out, true, java.util.Map.of())) {
            Files.writeString(dir.staging().resolve("run.json"), "new");
            dir.betweenRenames = () -> {
                try {
                    Files.createDirectory(out);   // empty: rename(2) would have replaced it
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            };
            String m = assertThrows(LayerscopeException.class, dir::commit).getMessage();
            assertTrue(m.startsWith("results directory " + out + " appeared while the job ran; the results are in "
                    + tmp.resolve("results.new-")), m);
            assertTrue(m.contains("; the old one is in " + tmp.resolve("results.old-")), m);
            assertTrue(m.endsWith("; keep the one you want as " + out), m);
        }
        try (var inside = Files.list(out)) {
            assertEquals(0, inside.count(), "what appeared stays as it was");
        }
        try (var s = Files.list(tmp)) {
            List<String> names = s.map(p -> p.getFileName().toString()).sorted().toList();
            assertEquals(3, names.size(), names.toString());
            assertEquals("results", names.get(0));
            assertTrue(names.get(1).startsWith("results.new-") && names.get(2).startsWith("results.old-"), names.toString());
            assertEquals("new", Files.readString(tmp.resolve(names.get(1)).resolve("run.json")));
            assertTrue(Files.readString(tmp.resolve(names.get(2)).resolve("run.json")).contains("\"old\""));
        }
    }

    @Test
    void somethingAlreadyThereIsDescribedAsWhatItIs(@TempDir Path tmp) throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("d"));
        Path file = Files.writeString(tmp.resolve("f"), "x");
        assertEquals(dir + " exists", io.layerscope.Failures.describe(new java.nio.file.FileAlreadyExistsException(dir.toString())));
        assertEquals(file + " exists and is not a directory",
                io.layerscope.Failures.describe(new java.nio.file.FileAlreadyExistsException(file.toString())));
    }

    /** Parents made for DIR go again when nothing is kept; those that held something else before stay. */
    @Test
    void theParentsMadeForTheResultsGoWhenNothingIsKept(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("new").resolve("deep").resolve("results");
        ResultsDirectory.create(out).close();
        assertFalse(Files.exists(tmp.resolve("new")));
        try (ResultsDirectory dir = ResultsDirectory.create(out)) {
            Files.writeString(dir.staging().resolve("run.json"), "x");
            dir.commit();
        }
        assertTrue(Files.isRegularFile(out.resolve("run.json")), "committed: kept with its parents");
    }

    /** A place nothing can be created in (Linux's /proc): the message names what was to be written there. */
    @Test
    void aPlaceWhereNoLockCanBeMadeNamesWhatWasToBeWritten() {
        Path proc = Path.of("/proc/layerscope-test-" + ProcessHandle.current().pid());
        for (ResultsDirectory.Kind kind : ResultsDirectory.Kind.values()) {
            LayerscopeException e = assertThrows(LayerscopeException.class,
                    () -> ResultsDirectory.create(kind, proc, false, java.util.Map.of()));
            String what = kind == ResultsDirectory.Kind.RESULTS ? "the results" : "the pruned model";
            assertTrue(e.getMessage().startsWith("cannot write " + what + " to " + proc + " ("), e.getMessage());
        }
    }

    /** A symbolic link is never the results directory: a dangling one would only fail at the very end. */
    @Test
    void aSymbolicLinkIsRefused(@TempDir Path tmp) throws Exception {
        Path link = Files.createSymbolicLink(tmp.resolve("results"), tmp.resolve("nowhere"));
        assertEquals("--out " + link + " is a symbolic link; name the directory itself",
                assertThrows(LayerscopeException.class, () -> ResultsDirectory.create(link)).getMessage());
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
