package io.layerscope.spark;

import io.layerscope.LayerscopeException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.Stream;

/**
 * A results directory that is complete or absent. Everything is written into a hidden staging
 * directory beside DIR ({@code .DIR.staging-<id>}) and renamed into place by {@link #commit()};
 * {@link #close()} without a commit deletes the staging directory, and so does a shutdown hook when
 * the JVM is interrupted (SIGINT). A lock file beside DIR ({@code .DIR.lock}, created atomically,
 * naming its owner as pid@host) refuses a second job writing the same DIR at the same time; a lock
 * left by a process of this host that is gone (kill -9) is taken over.
 *
 * <pre>{@code
 * try (ResultsDirectory out = ResultsDirectory.create(Path.of("results/demo"))) {
 *     write(out.staging());
 *     out.commit();
 * }
 * }</pre>
 */
public final class ResultsDirectory implements AutoCloseable {
    /** What the directory is for: the option that names it, and what --overwrite may replace. */
    public enum Kind {
        RESULTS("--out", "results directory", "the results", "results/run1"),
        PRUNED_CHECKPOINT("--save-pruned", "pruned checkpoint", "the pruned model", "results/model-pruned");

        final String option;
        final String what;
        final String holds;
        final String example;

        Kind(String option, String what, String holds, String example) {
            this.option = option;
            this.what = what;
            this.holds = holds;
            this.example = example;
        }
    }

    private final Kind kind;
    private final Path target;
    private final Path staging;
    private final Path lock;
    private final boolean overwrite;
    private final Map<String, Path> kept;
    private final Thread cleanupHook;
    private boolean committed;
    /** Held shared by each {@link #write} step, alone by {@link #commit} and the clean-up. */
    private final ReentrantReadWriteLock guard = new ReentrantReadWriteLock();
    private volatile boolean interrupted;

    private ResultsDirectory(Kind kind, Path target, Path staging, Path lock, boolean overwrite, Map<String, Path> kept) {
        this.kind = kind;
        this.target = target;
        this.staging = staging;
        this.lock = lock;
        this.overwrite = overwrite;
        this.kept = Map.copyOf(kept);
        this.cleanupHook = new Thread(this::interrupted, "layerscope-results-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanupHook);
    }

    /** A results directory that must not exist yet. */
    public static ResultsDirectory create(Path dir) {
        return create(dir, false, Map.of());
    }

    /**
     * A results directory; with {@code overwrite} an existing one is replaced on commit, but only if
     * it is a layerscope results directory and none of {@code kept} (by what they are, see
     * {@link ReplaceableResults#check}) is it or lies inside it.
     */
    public static ResultsDirectory create(Path dir, boolean overwrite, Map<String, Path> kept) {
        return create(Kind.RESULTS, dir, overwrite, kept);
    }

    /** {@link #create(Path, boolean, Map)} for a directory of {@code kind}. */
    public static ResultsDirectory create(Kind kind, Path dir, boolean overwrite, Map<String, Path> kept) {
        String option = kind.option;
        if (dir.toString().isBlank()) {
            throw new LayerscopeException(option + " is empty; name the " + kind.what + ", e.g. " + option + " " + kind.example);
        }
        Path target = dir.toAbsolutePath().normalize();
        Path parent = target.getParent();
        if (parent == null) {
            throw new LayerscopeException(option + " " + dir + " is the root of the file system; name a new directory"
                    + " for " + kind.holds + ", e.g. " + option + " " + kind.example);
        }
        String name = target.getFileName().toString();
        if (Files.exists(target) && !overwrite) {
            throw new LayerscopeException(kind.what + " " + dir + " already exists; choose another " + option
                    + " or pass --overwrite to replace it");
        }
        if (Files.exists(target) && !Files.isDirectory(target)) {
            throw new LayerscopeException(option + " " + dir + " exists and is not a directory");
        }
        if (Files.exists(target)) {
            ReplaceableResults.check(dir, kind, kept);
        }
        try {
            Files.createDirectories(parent);
        } catch (IOException e) {
            throw new LayerscopeException("cannot create the parent directory of " + option + " " + dir + " (" + describe(e) + ")", e);
        }
        if (!Files.isWritable(parent)) {
            throw new LayerscopeException("cannot write results to " + dir + ": directory " + parent + " is not writable;"
                    + " choose another --out");
        }
        Path lock = parent.resolve("." + name + ".lock");
        takeLock(lock, dir, parent, name);
        Path staging = parent.resolve("." + name + ".staging-" + UUID.randomUUID().toString().substring(0, 8));
        try {
            Files.createDirectory(staging);
        } catch (IOException e) {
            deleteQuietly(lock);
            throw new LayerscopeException("cannot write results to " + dir + " (" + describe(e) + ")", e);
        }
        return new ResultsDirectory(kind, target, staging, lock, overwrite, kept);
    }

    /**
     * Creates the lock file, naming its owner ("pid@host"). A lock whose owner was a process of this
     * host that no longer runs (a driver killed with kill -9 never removes its lock) is taken over,
     * with that job's staging directories, and said so on stderr; any other existing lock refuses.
     */
    private static void takeLock(Path lock, Path dir, Path parent, String name) {
        for (int attempt = 0; ; attempt++) {
            try {
                Files.createFile(lock);
                Files.writeString(lock, owner() + "\n");
                return;
            } catch (FileAlreadyExistsException e) {
                String gone = attempt == 0 ? ownerNoLongerRunning(lock) : null;
                if (gone == null) {
                    throw new LayerscopeException("another layerscope job is writing " + dir + " (lock file " + lock
                            + " exists); wait for it, or delete the lock file if that job is no longer running");
                }
                deleteQuietly(lock);
                try (Stream<Path> left = Files.list(parent)) {
                    left.filter(f -> f.getFileName().toString().startsWith("." + name + ".staging-"))
                            .forEach(ResultsDirectory::deleteRecursively);
                } catch (IOException listing) {
                    // the stale staging directories stay; they do not stop this job
                }
                System.err.println("layerscope: removed the lock and staging files of " + dir + " left by process "
                        + gone + ", which is no longer running");
            } catch (IOException e) {
                throw new LayerscopeException("cannot write results to " + dir + " (" + describe(e) + ")", e);
            }
        }
    }

    /** This process as a lock file names it: "pid@host". */
    static String owner() {
        return ProcessHandle.current().pid() + "@" + hostName();
    }

    /**
     * The lock's owner if it was a process of this host that is no longer running; null when it runs,
     * is on another host (its processes cannot be checked from here), or the file names no owner
     * (empty: just being created, or written by an older version).
     */
    static String ownerNoLongerRunning(Path lock) {
        String content;
        try {
            content = Files.readString(lock).strip();
        } catch (IOException e) {
            return null;
        }
        int at = content.indexOf('@');
        if (at <= 0 || !content.substring(at + 1).equals(hostName())) {
            return null;
        }
        long pid;
        try {
            pid = Long.parseLong(content.substring(0, at));
        } catch (NumberFormatException e) {
            return null;
        }
        boolean running = ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        return running ? null : content;
    }

    private static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            String env = System.getenv("HOSTNAME");
            return env == null ? "unknown-host" : env;
        }
    }

    /** Where to write; becomes DIR on commit. */
    public Path staging() {
        return staging;
    }

    public Path target() {
        return target;
    }

    /** One step of writing into the staging directory (a table, the pictures, the report...). */
    @FunctionalInterface
    public interface Step {
        void write(Path staging) throws IOException;
    }

    /**
     * Runs {@code step} (steps may run on several threads at once), never at the same time as the
     * interrupt's clean-up or the commit: once the JVM is shutting down (SIGINT) no step starts, the
     * ones under way finish before the staging directory goes, and nothing recreates it afterwards.
     */
    public void write(Step step) throws IOException {
        // steps share the lock (they may run on several threads); commit and the clean-up take it alone
        guard.readLock().lock();
        try {
            if (interrupted) {
                throw new InterruptedIOException("interrupted: the results are not kept");
            }
            step.write(staging);
        } finally {
            guard.readLock().unlock();
        }
    }

    /** Renames the staging directory into place (replacing an old DIR only with --overwrite). */
    public void commit() {
        guard.writeLock().lock();
        try {
            if (interrupted) {
                throw new LayerscopeException("interrupted: the results in " + staging + " are not kept");
            }
            moveIntoPlace();
        } finally {
            guard.writeLock().unlock();
        }
    }

    private void moveIntoPlace() {
        try {
            Path old = null;
            if (Files.exists(target)) {
                if (!overwrite) {
                    throw new LayerscopeException(kind.what + " " + target + " appeared while the job ran; results left in " + staging);
                }
                // checked again: the directory may have changed while the job ran
                ReplaceableResults.check(target, kind, kept);
                old = target.resolveSibling("." + target.getFileName() + ".replaced-" + UUID.randomUUID().toString().substring(0, 8));
                move(target, old);
            }
            move(staging, target);
            committed = true;
            if (old != null) {
                deleteRecursively(old);
            }
        } catch (IOException e) {
            throw new LayerscopeException("could not move the results into " + target + " (" + describe(e) + ")", e);
        } finally {
            deleteQuietly(lock);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    /** Without a commit: deletes everything written. Idempotent. */
    @Override
    public void close() {
        discard();
        try {
            Runtime.getRuntime().removeShutdownHook(cleanupHook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or has run; nothing to remove
        }
    }

    /** The shutdown hook: stops further steps, waits for the one under way, then deletes everything written. */
    void interrupted() {
        interrupted = true;
        discard();
    }

    private void discard() {
        guard.writeLock().lock();
        try {
            if (!committed) {
                deleteRecursively(staging);
            }
            deleteQuietly(lock);
        } finally {
            guard.writeLock().unlock();
        }
    }

    static void deleteRecursively(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(ResultsDirectory::deleteQuietly);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort during cleanup
        }
    }

    static String describe(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied: " + e.getMessage();
        }
        if (e instanceof FileAlreadyExistsException) {
            return e.getMessage() + " exists and is not a directory";
        }
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m;
    }
}
