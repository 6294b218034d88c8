package io.layerscope.reliability;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Small tmpfs mounts for file-system failures that root ignores in permissions: a full disk (a
 * tmpfs of a few kB) and a read-only directory. Needs CAP_SYS_ADMIN (root here and in CI): callers
 * ask {@link io.layerscope.fixtures.TestRequirements#root} first, and skip when {@link #tmpfs} still
 * returns false (a container without that capability). Unmounted lazily, so a file a failed writer still holds
 * open cannot keep the mount busy.
 */
final class Mounts {
    private Mounts() {
    }

    /** Mounts a tmpfs at {@code dir} with {@code options} (e.g. "size=64k", "ro,size=64k"); false when not allowed. */
    static boolean tmpfs(Path dir, String options) throws IOException, InterruptedException {
        return run("mount", "-t", "tmpfs", "-o", options, "tmpfs", dir.toString());
    }

    static void unmount(Path dir) throws IOException, InterruptedException {
        run("umount", "-l", dir.toString());
    }

    private static boolean run(String... command) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(command));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    }
}
