package io.layerscope.spark;

import io.layerscope.Failures;
import io.layerscope.FileTrees;
import io.layerscope.Flock;
import io.layerscope.LayerscopeException;
import io.layerscope.OutputLock;
import io.layerscope.results.ResultTables;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.Stream;

/**
 * A results directory that is complete or absent. Everything is written into a hidden staging
 * directory beside DIR ({@code .DIR.staging-<id>}) and renamed into place by {@link #commit()};
 * {@link #close()} without a commit deletes the staging directory, and so does a shutdown hook when
 * the JVM is interrupted (SIGINT). A lock beside DIR (flock(2) on {@code .DIR.lock}, which names its
 * holder as pid@host) refuses a second job writing the same DIR at the same time; the kernel releases
 * it when its job dies, however it dies, and the next job to take it clears what that job left: its
 * staging directory, and an old DIR it had moved aside to replace it (put back where the new one
 * never arrived).
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
        RESULTS("--out", "results directory", "the results", "results/run1", "the earlier results in %s are unchanged"),
        PRUNED_CHECKPOINT("--save-pruned", "pruned checkpoint", "the pruned model", "results/model-pruned",
                "the earlier pruned model in %s is unchanged");

        final String option;
        final String what;
        final String holds;
        final String example;
        /** Said of the directory --overwrite was to replace when the job ends before replacing it. */
        final String unchanged;

        Kind(String option, String what, String holds, String example, String unchanged) {
            this.option = option;
            this.what = what;
            this.holds = holds;
            this.example = example;
            this.unchanged = unchanged;
        }
    }

    private final Kind kind;
    private final Path target;
    private final Path staging;
    private final Path lock;
    /** The flock on {@link #lock}; null once released (or where there is no flock). */
    private Flock held;
    private final boolean overwrite;
    private final Map<String, Path> kept;
    /** The highest of the directories made for DIR's parent (null: it existed), removed again if nothing is kept. */
    private final Path createdTop;
    private final Thread cleanupHook;
    /** Runs after the old DIR is moved aside, before the new one goes in: tests make a directory appear there. */
    Runnable betweenRenames = () -> { };
    private boolean committed;
    /** Held shared by each {@link #write} step, alone by {@link #commit} and the clean-up. */
    private final ReentrantReadWriteLock guard = new ReentrantReadWriteLock();
    private volatile boolean interrupted;
    /** Deleted without a commit (a failed job): a step still running elsewhere (a picture) must not make it again. */
    private boolean discarded;
    /** The version the commit replaced, renamed .deleting-*, until close() deletes it. */
    private volatile Path replaced;
    /** The commit has begun: from here on its own messages say where the earlier DIR is. */
    private volatile boolean placing;

    private ResultsDirectory(Kind kind, Path target, Path staging, Path lock, Flock held, boolean overwrite,
                             Map<String, Path> kept, Path createdTop) {
        this.createdTop = createdTop;
        this.kind = kind;
        this.target = target;
        this.staging = staging;
        this.lock = lock;
        this.held = held;
        this.overwrite = overwrite;
        this.kept = Map.copyOf(kept);
        this.cleanupHook = new Thread(this::interrupted, "layerscope-results-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanupHook);
        if (overwrite && Files.exists(target, LinkOption.NOFOLLOW_LINKS) && !FileTrees.isEmptyDirectory(target)) {
            io.layerscope.KeptOutputs.replacing(() -> placing ? null : String.format(kind.unchanged, target));
        }
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
        if (Files.isSymbolicLink(target)) {
            // a link is not replaced (nor followed into what it names); a dangling one would fail only at the end
            throw new LayerscopeException(option + " " + dir + " is a symbolic link; name the directory itself");
        }
        if (Files.exists(target) && !Files.isDirectory(target)) {
            // before the advice to pass --overwrite, which replaces directories only
            throw new LayerscopeException(option + " " + dir + " exists and is not a directory; name a new directory"
                    + " for " + kind.holds + ", e.g. " + option + " " + kind.example);
        }
        if (Files.isDirectory(target) && isMountPoint(target, parent)) {
            // before the advice to pass --overwrite: its rename at the end would fail, and the job's work with it
            throw new LayerscopeException(option + " " + dir + " is a mount point (a file system of its own), which"
                    + " cannot be renamed, and layerscope puts " + kind.holds + " in place by renaming a complete"
                    + " directory; name a directory inside it, e.g. " + option + " " + dir.resolve(Path.of(kind.example)
                    .getFileName()));
        }
        if (Files.exists(target) && !overwrite) {
            throw alreadyExists(kind, dir);
        }
        if (Files.exists(target)) {
            ReplaceableResults.check(dir, kind, kept);
        }
        Path createdTop = null;   // the highest directory this creates for DIR's parent: gone again if nothing is kept
        for (Path p = parent; p != null && !Files.exists(p, LinkOption.NOFOLLOW_LINKS); p = p.getParent()) {
            createdTop = p;
        }
        try {
            Files.createDirectories(parent);
        } catch (IOException e) {
            throw new LayerscopeException("cannot create the parent directory of " + option + " " + dir + " (" + Failures.describe(e) + ")", e);
        }
        if (!Files.isWritable(parent)) {
            throw new LayerscopeException("cannot write " + kind.holds + " to " + dir + ": directory " + parent
                    + " is not writable; choose another " + option);
        }
        Path lock = parent.resolve("." + name + ".lock");
        Flock held;
        try {
            held = OutputLock.take(lock, dir, kind.option, kind.holds, ".NAME.staging-*, .NAME.replaced-*, .NAME.deleting-*");
        } catch (RuntimeException e) {
            removeEmpty(parent, createdTop);
            throw e;
        }
        Path staging = beside(parent.resolve(name), ".", ".staging-");
        try {
            if (held != null) {   // without a lock a running job's files cannot be told from a dead one's
                clearLeftovers(kind, target, dir);
                if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                    // put back just now: checked as one found at the start would have been
                    if (!overwrite) {
                        throw alreadyExists(kind, dir);
                    }
                    ReplaceableResults.check(dir, kind, kept);
                }
            }
            Files.createDirectory(staging);
        } catch (IOException e) {
            OutputLock.release(lock, held);
            removeEmpty(parent, createdTop);
            throw new LayerscopeException("cannot write " + kind.holds + " to " + dir + " (" + Failures.describe(e) + ")", e);
        } catch (RuntimeException e) {
            OutputLock.release(lock, held);
            removeEmpty(parent, createdTop);
            throw e;
        }
        return new ResultsDirectory(kind, target, staging, lock, held, overwrite, kept, createdTop);
    }

    /**
     * What a job that died with this lock (kill -9, a lost machine) left beside {@code target}: its
     * staging directory goes; an old directory it had moved aside to replace goes where the new one
     * is in place, and is put back where it is not (the job died between the two renames); one it
     * was deleting (renamed .deleting-* once the new one was in place) goes in any case.
     */
    private static void clearLeftovers(Kind kind, Path target, Path dir) throws IOException {
        String name = target.getFileName().toString();
        List<Path> staging = siblings(target, ".staging-");
        List<Path> replaced = siblings(target, ".replaced-");
        // what a job that had put its new DIR in place was deleting: never put back, in part or whole
        List<Path> deleting = siblings(target, ".deleting-");
        deleting.forEach(FileTrees::deleteWhatCan);
        if (!deleting.isEmpty()) {
            System.err.println("layerscope: removed " + deleting.stream().map(p -> p.getFileName().toString()).toList()
                    + ", what remained of the " + kind.what + " a job that stopped had replaced with " + dir);
        }
        boolean present = Files.exists(target, LinkOption.NOFOLLOW_LINKS);
        if (!present && replaced.size() > 1) {
            // which one to keep is the user's choice (each job moves its DIR aside only when it holds one)
            throw new LayerscopeException(replaced.size() + " earlier versions of " + dir + " were left as "
                    + replaced.stream().map(p -> p.getFileName().toString()).toList() + " by jobs that stopped while"
                    + " replacing it; rename the one to keep to " + name + " and remove the others, then run again");
        }
        if (!present && replaced.size() == 1) {
            move(replaced.get(0), target);
            System.err.println("layerscope: put " + dir + " back from " + replaced.get(0).getFileName() + ", where a job"
                    + " that stopped while replacing it had moved it");
        } else if (present && !replaced.isEmpty()) {
            // a complete DIR: the job stopped after its new one was in place, and these are what it replaced.
            // Anything else there (made since, by hand) may not be worth more than the old one: the user says
            if (!complete(kind, target)) {
                throw new LayerscopeException(dir + " holds no complete " + kind.what + ", and " + replaced.stream()
                        .map(p -> p.getFileName().toString()).toList() + " beside it holds the one a job that stopped"
                        + " was replacing: keep one of them (rename the one to keep to " + name + "), then run again");
            }
            replaced.forEach(FileTrees::deleteWhatCan);
            System.err.println("layerscope: removed " + replaced.stream().map(p -> p.getFileName().toString()).toList()
                    + ", the " + kind.what + " a job that stopped had just replaced with " + dir);
        }
        staging.forEach(FileTrees::deleteWhatCan);
        if (!staging.isEmpty()) {
            System.err.println("layerscope: removed the unfinished results of " + dir + " (" + staging.get(0).getFileName()
                    + (staging.size() > 1 ? " and " + (staging.size() - 1) + " more" : "")
                    + ") left by a job that is no longer running");
        }
    }

    /** Whether {@code dir} is a whole output of {@code kind} (what a job moves into place), not empty, not foreign. */
    private static boolean complete(Kind kind, Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            if (s.findAny().isEmpty()) {
                return false;
            }
        }
        return (kind == Kind.RESULTS ? ReplaceableResults.notResults(dir) : ReplaceableResults.notPrunedCheckpoint(dir)) == null;
    }

    /**
     * Earlier versions of {@code target} a job that stopped between its two renames left beside it
     * ({@code .NAME.replaced-*}), for a message about a DIR that is missing; none where it cannot list.
     */
    static List<Path> movedAside(Path target) {
        Path absolute = target.toAbsolutePath().normalize();
        if (absolute.getParent() == null || absolute.getFileName() == null) {
            return List.of();
        }
        try {
            return siblings(absolute, ".replaced-");
        } catch (IOException | UncheckedIOException e) {
            return List.of();
        }
    }

    /** The directories {@code .NAME<infix>XXXXXXXX} beside {@code target}: this class's names, and only those. */
    private static List<Path> siblings(Path target, String infix) throws IOException {
        java.util.regex.Pattern ours = java.util.regex.Pattern.compile(
                java.util.regex.Pattern.quote("." + target.getFileName() + infix) + "[0-9a-f]{8}");
        try (Stream<Path> s = Files.list(target.getParent())) {
            return s.filter(p -> ours.matcher(p.getFileName().toString()).matches()
                    && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).sorted().toList();
        }
    }

    /** Removes {@code dir} and its parents up to {@code top} while they are empty (null top: nothing was made). */
    private static void removeEmpty(Path dir, Path top) {
        if (top == null) {
            return;
        }
        for (Path p = dir; p != null && p.startsWith(top); p = p.getParent()) {
            try {
                Files.delete(p);
            } catch (IOException e) {
                return;   // not empty (something else lives there now), or gone: what is above it stays
            }
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
                throw new InterruptedIOException("interrupted: " + kind.holds + " are not kept");
            }
            if (discarded || committed) {
                // under the lock, so a step never recreates the staging directory the job has let go of
                throw new IOException(kind.holds + " of " + target + (committed ? " are in place already" : " were discarded"));
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
                throw new LayerscopeException("interrupted: " + kind.holds + " in " + staging + " are not kept");
            }
            moveIntoPlace();
        } finally {
            guard.writeLock().unlock();
        }
    }

    private void moveIntoPlace() {
        placing = true;
        try {
            Path old = null;
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                // checked again: the directory may have appeared or changed while the job ran
                String refused = !overwrite ? kind.what + " " + target + " appeared while the job ran"
                        : Files.isSymbolicLink(target) ? kind.option + " " + target + " became a symbolic link while the job ran"
                        : refusal(target);
                if (refused != null) {
                    // not to be replaced: the results are kept under a name of their own
                    throw new LayerscopeException(refused + "; " + keepAside() + " instead");
                }
                old = beside(target, ".", ".replaced-");
                move(target, old);
                betweenRenames.run();
            }
            try {
                move(staging, target);
            } catch (IOException e) {
                throw movedAside(e, old);
            }
            committed = true;
            if (old != null) {
                // renamed first, so that a job killed while deleting leaves no part of it that looks whole
                Path doomed = beside(target, ".", ".deleting-");
                try {
                    move(old, doomed);
                    old = doomed;
                } catch (IOException e) {
                    // deleted under its own name (the next run may then put a part of it back: rare)
                }
                replaced = old;   // deleted by close(): the commit says the new one is in place at once
            }
        } catch (IOException | UncheckedIOException e) {
            IOException io = e instanceof UncheckedIOException u ? u.getCause() : (IOException) e;
            throw new LayerscopeException("could not move " + kind.holds + " into " + target + " (" + Failures.describe(io) + ")", e);
        } finally {
            if (committed) {
                // else the lock is held until close() has deleted the staging directory: no job takes it for a dead one's
                OutputLock.release(lock, held);
                held = null;
            }
        }
    }

    /**
     * The rename into DIR failed: the old DIR (moved aside to {@code old}, or null) is put back, and
     * the new output kept under a name of its own; the error says where each is.
     */
    private LayerscopeException movedAside(IOException failure, Path old) {
        String where;
        if (old != null) {
            try {
                move(old, target);
                where = "the old one is back in " + target;
            } catch (FileAlreadyExistsException e) {
                // what appeared at DIR is not ours to judge: the old one goes where no run clears it
                failure.addSuppressed(e);
                Path kept = beside(target, "", ".old-");
                try {
                    move(old, kept);
                    where = "the old one is in " + kept + "; keep the one you want as " + target;
                } catch (IOException again) {
                    failure.addSuppressed(again);
                    where = "the old one is in " + old + "; keep the one you want as " + target;
                }
            } catch (IOException e) {
                failure.addSuppressed(e);
                where = "the old one is in " + old + " (the next run puts it back)";
            }
        } else {
            where = null;
        }
        String kept;
        try {
            kept = keepAside();
        } catch (IOException e) {
            failure.addSuppressed(e);
            kept = kind.holds + " could not be kept";
        }
        // FileAlreadyExists: made at DIR between the check and the rename, which did not replace it
        String what = failure instanceof FileAlreadyExistsException ? kind.what + " " + target + " appeared while the job ran"
                : "could not move " + kind.holds + " into " + target + " (" + Failures.describe(failure) + ")";
        return new LayerscopeException(what + "; " + kept + (where == null ? "" : "; " + where), failure);
    }

    /** Moves the staging directory to a name of its own beside DIR ({@code DIR.new-<id>}), kept; says where. */
    private String keepAside() throws IOException {
        Path aside = beside(target, "", ".new-");
        move(staging, aside);
        committed = true;
        return kind.holds + (kind == Kind.RESULTS ? " are" : " is") + " in " + aside;
    }

    /** Whether {@code dir} holds a results directory's marks: run.json and the layers table. */
    static boolean holdsResults(Path dir) {
        return Files.isRegularFile(dir.resolve(RunRecord.FILE))
                && Files.isDirectory(dir.resolve(ResultTables.LAYERS.name() + ".parquet"));
    }

    /**
     * Whether {@code dir} is the root of a mount of its own (a volume, a tmpfs, a bind mount, even of
     * the same file system), which no rename can move: on Linux, a mount point of /proc/self/mountinfo
     * (a btrfs subvolume that is not mounted is renamed like any directory); elsewhere, a file store
     * that is not its parent's. A directory that cannot be asked is taken as none; the rename says so.
     */
    static boolean isMountPoint(Path dir, Path parent) {
        try {
            Path real = dir.toRealPath();
            Path mountinfo = Path.of("/proc/self/mountinfo");
            if (Files.isReadable(mountinfo)) {
                try (java.util.stream.Stream<String> lines = Files.lines(mountinfo)) {
                    return lines.map(ResultsDirectory::mountPoint).anyMatch(m -> m != null && Path.of(m).equals(real));
                }
            }
            return !Files.getFileStore(dir).equals(Files.getFileStore(parent));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** The mount point of a /proc/self/mountinfo line (its fifth field, octal escapes undone), or null. */
    static String mountPoint(String line) {
        String[] fields = line.split(" ");
        if (fields.length < 5) {
            return null;
        }
        java.util.regex.Matcher escape = java.util.regex.Pattern.compile("\\\\([0-7]{3})").matcher(fields[4]);
        StringBuilder b = new StringBuilder();
        while (escape.find()) {
            escape.appendReplacement(b, java.util.regex.Matcher.quoteReplacement(
                    String.valueOf((char) Integer.parseInt(escape.group(1), 8))));
        }
        escape.appendTail(b);
        return b.toString();
    }

    private static LayerscopeException alreadyExists(Kind kind, Path dir) {
        return new LayerscopeException(kind.what + " " + dir + " already exists; choose another " + kind.option
                + " or pass --overwrite to replace it");
    }

    /** Why --overwrite may not replace {@code target} now, or null. */
    private String refusal(Path target) {
        try {
            ReplaceableResults.check(target, kind, kept);
            return null;
        } catch (LayerscopeException e) {
            return e.getMessage();
        }
    }

    /** A name of its own beside {@code dir}: {@code <prefix>DIR<kind><8 random hex digits>}. */
    static Path beside(Path dir, String prefix, String kind) {
        return dir.resolveSibling(prefix + dir.getFileName() + kind + UUID.randomUUID().toString().substring(0, 8));
    }

    /** Every move here goes where nothing should be: never over what appeared there meanwhile. */
    private static void move(Path from, Path to) throws IOException {
        io.layerscope.NoReplaceRename.move(from, to);
    }

    /** Without a commit: deletes everything written; after one, the version it replaced. Idempotent. */
    @Override
    public void close() {
        discard();
        deleteReplaced();
        try {
            Runtime.getRuntime().removeShutdownHook(cleanupHook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or has run; nothing to remove
        }
    }

    /**
     * The shutdown hook: stops further steps, waits for the one under way, then deletes everything
     * written, or after a commit the version it replaced (the JVM may end before close() runs).
     */
    void interrupted() {
        interrupted = true;
        discard();
        deleteReplaced();
    }

    private void discard() {
        guard.writeLock().lock();
        try {
            if (!committed) {
                FileTrees.deleteWhatCan(staging);
                discarded = true;
            }
            OutputLock.release(lock, held);
            held = null;
            if (!committed) {
                removeEmpty(target.getParent(), createdTop);
            }
        } finally {
            guard.writeLock().unlock();
        }
    }

    /** Deletes the version the commit replaced, once (close() and the shutdown hook may both come here). */
    private synchronized void deleteReplaced() {
        Path old = replaced;
        replaced = null;
        if (old != null) {
            FileTrees.deleteWhatCan(old);
            if (Files.exists(old, LinkOption.NOFOLLOW_LINKS)) {
                // the new results are in place all the same
                System.err.println("layerscope: could not delete all of the replaced " + kind.what + ", moved aside to "
                        + old + "; delete it yourself");
            }
        }
    }
}
