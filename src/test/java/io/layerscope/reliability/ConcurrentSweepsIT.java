package io.layerscope.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two sweeps at the same time, as two users of one Spark application (or two spark-submits sharing a
 * file system) would run them: into different results directories both succeed with the results of
 * a sweep run alone; a third aimed at a directory being written is refused at once, and the first
 * is not disturbed.
 */
class ConcurrentSweepsIT {
    @TempDir
    Path tmp;

    @AfterAll
    static void releaseSession() {
        TestSessions.stop();
    }

    @Test
    void twoSweepsIntoDifferentDirectoriesSucceedAndASecondIntoTheSameIsRefused() throws Exception {
        SweepResults alone = ReferenceSweep.results();
        TestSessions.start("local[2]", Map.of());
        Path first = tmp.resolve("first");
        Path second = tmp.resolve("second");
        Path lock = tmp.resolve(".first.lock");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<Cli.Run> a = pool.submit(() -> Cli.run(ReferenceSweep.args(first)));
            Future<Cli.Run> b = pool.submit(() -> Cli.run(ReferenceSweep.args(second)));
            long deadline = System.currentTimeMillis() + 60_000;
            while (!Files.exists(lock) && !a.isDone() && System.currentTimeMillis() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(Files.exists(lock), "the first sweep never took its lock");

            Cli.Run refused = Cli.run(ReferenceSweep.args(first));
            assertEquals(2, refused.status(), refused.err());
            assertEquals("error: another layerscope job is writing " + first + " (process "
                    + ProcessHandle.current().pid() + "@" + java.net.InetAddress.getLocalHost().getHostName() + " holds the lock " + lock + "); wait for it to finish,"
                    + " or choose another --out\n", refused.err());

            Cli.Run ra = a.get(5, TimeUnit.MINUTES);
            Cli.Run rb = b.get(5, TimeUnit.MINUTES);
            assertEquals(0, ra.status(), ra.err());
            assertEquals(0, rb.status(), rb.err());
        } finally {
            pool.shutdownNow();
        }
        SweepResults.assertSame(alone, SweepResults.read(first), 0);
        SweepResults.assertSame(alone, SweepResults.read(second), 0);
        SweepResults.assertNoLeftovers(first);
        SweepResults.assertNoLeftovers(second);
        assertFalse(Files.exists(lock));
    }
}
