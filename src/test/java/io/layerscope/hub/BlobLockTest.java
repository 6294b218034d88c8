package io.layerscope.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.fixtures.TestRequirements;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The blob lock and Python's lock on the same file exclude each other: a python3 process holding
 * {@code fcntl.flock} (what huggingface_hub's {@code filelock} takes) makes the Java download wait,
 * and the Java lock makes Python's attempt fail while it is held.
 */
class BlobLockTest {
    @TempDir
    Path tmp;

    private static final String PYTHON = """
            import fcntl, os, sys
            fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
            def say(s):
                print(s, flush=True)
            for line in sys.stdin:
                cmd = line.strip()
                if cmd == "lock":
                    fcntl.flock(fd, fcntl.LOCK_EX); say("locked")
                elif cmd == "unlock":
                    fcntl.flock(fd, fcntl.LOCK_UN); say("unlocked")
                elif cmd == "try":
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB); fcntl.flock(fd, fcntl.LOCK_UN); say("free")
                    except BlockingIOError:
                        say("busy")
            """;

    @Test
    void aJavaDownloadWaitsForPythonsFlockAndPythonForTheJavaLock() throws Exception {
        Path lockFile = tmp.resolve(".locks/models--org--name/0123abcd.lock");
        java.nio.file.Files.createDirectories(lockFile.getParent());
        Process python = new ProcessBuilder(TestRequirements.python3(), "-c", PYTHON, lockFile.toString()).start();
        try (OutputStream toPython = python.getOutputStream();
             BufferedReader fromPython = new BufferedReader(new InputStreamReader(python.getInputStream(), StandardCharsets.UTF_8))) {
            assertEquals("locked", ask(toPython, fromPython, "lock"));
            // a download thread takes the lock, holds it until told, and releases it (a lock belongs to its thread)
            CompletableFuture<Void> acquired = new CompletableFuture<>();
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<Void> download = CompletableFuture.runAsync(() -> {
                try (BlobLock held = BlobLock.acquire(lockFile)) {
                    acquired.complete(null);
                    release.await();
                } catch (Exception e) {
                    acquired.completeExceptionally(e);
                    throw new IllegalStateException(e);
                }
            });
            try {
                acquired.get(1500, TimeUnit.MILLISECONDS);
                throw new AssertionError("the Java lock was taken while Python held flock on " + lockFile);
            } catch (TimeoutException expected) {
                assertFalse(acquired.isDone());
            }
            assertEquals("unlocked", ask(toPython, fromPython, "unlock"));
            acquired.get(30, TimeUnit.SECONDS);
            assertEquals("busy", ask(toPython, fromPython, "try"), "Python got the lock the Java download holds");
            release.countDown();
            download.get(30, TimeUnit.SECONDS);
            assertEquals("free", ask(toPython, fromPython, "try"), "the Java lock was not released");
        } finally {
            python.destroy();
            assertTrue(python.waitFor(10, TimeUnit.SECONDS));
        }
    }

    private static String ask(OutputStream to, BufferedReader from, String command) throws java.io.IOException {
        to.write((command + "\n").getBytes(StandardCharsets.UTF_8));
        to.flush();
        return from.readLine();
    }
}
