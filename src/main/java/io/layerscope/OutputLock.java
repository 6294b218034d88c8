package io.layerscope;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * The lock a job holds on an output while it writes it: a flock on {@code .NAME.lock} beside it,
 * the file naming the holder (pid@host) for the message of a job refused. A holder deletes the file
 * as it finishes, so one opened just before that is no longer the lock: then the file the path names
 * now is locked. Results directories, pruned checkpoints and importance matrices each take one.
 *
 * <pre>{@code
 * Flock held = OutputLock.take(OutputLock.besides(dir), dir, "--out", "results", ".NAME.staging-*");
 * try { ... } finally { OutputLock.release(OutputLock.besides(dir), held); }
 * }</pre>
 */
public final class OutputLock {
    private OutputLock() {
    }

    /** The lock file of {@code output}: {@code .NAME.lock} in its directory. */
    public static Path besides(Path output) {
        return output.resolveSibling("." + output.getFileName() + ".lock");
    }

    /**
     * Takes the lock, or refuses when another job holds it; null where the platform or the file system
     * has no flock (said on standard error: then nothing refuses a second job).
     *
     * @param output    what is written, for the messages
     * @param option    the option naming it ("--out"), for "choose another ..."
     * @param writes    what is written, for "cannot write ... to" ("results", "the importance matrix")
     * @param leftovers what a job that stopped leaves beside it, cleared only under the lock
     */
    public static Flock take(Path lock, Path output, String option, String writes, String leftovers) {
        if (!Flock.AVAILABLE) {
            return null;   // no flock (Windows): nothing refuses a second job
        }
        if (Files.isSymbolicLink(lock)) {
            throw new LayerscopeException("the lock file " + lock + " of " + output + " is a symbolic link, which"
                    + " layerscope never makes: remove it, then run again");
        }
        for (int attempt = 0; attempt < 10; attempt++) {
            Flock held;
            try {
                held = Flock.tryExclusive(lock);
            } catch (Flock.Unsupported e) {
                System.err.println("layerscope: the file system of " + lock.getParent() + " has no file locks ("
                        + e.getMessage() + "): a second job writing " + output + " at the same time is not refused, and"
                        + " what a job that stopped left beside it (" + leftovers + ") is not cleared");
                deleteQuietly(lock);
                return null;
            } catch (IOException e) {
                throw new LayerscopeException("cannot write " + writes + " to " + output + " (" + e.getMessage() + ")", e);
            }
            if (held == null) {
                throw new LayerscopeException("another layerscope job is writing " + output + " (" + holderOf(lock)
                        + " holds the lock " + lock + "); wait for it to finish, or choose another " + option);
            }
            if (held.isAt(lock)) {
                try {
                    Files.writeString(lock, owner() + "\n");
                    return held;
                } catch (AccessDeniedException e) {
                    // held, so stale: another user's, left by a killed job; made anew as this user's
                    release(lock, held);
                    if (Files.exists(lock, LinkOption.NOFOLLOW_LINKS)) {
                        throw new LayerscopeException("the lock file " + lock + " of " + output + " belongs to another"
                                + " user and cannot be replaced here (no job holds it): remove it, then run again", e);
                    }
                    continue;
                } catch (IOException e) {
                    release(lock, held);
                    throw new LayerscopeException("cannot write " + writes + " to " + output + " ("
                            + Failures.describe(e) + ")", e);
                }
            }
            closeQuietly(held);
        }
        throw new LayerscopeException("cannot lock " + lock + ": other jobs kept replacing it; try again");
    }

    /** Deletes the lock file, then lets the flock go: in that order, so no one can lock the file and find it gone. */
    public static void release(Path lock, Flock held) {
        if (held == null) {
            return;
        }
        deleteQuietly(lock);
        closeQuietly(held);
    }

    /** This process as the lock file names it: "pid@host". */
    public static String owner() {
        return ProcessHandle.current().pid() + "@" + hostName();
    }

    /** Who holds the lock, as its file names them ("process 123@host"), or "another process" before it is named. */
    private static String holderOf(Path lock) {
        try {
            String owner = Files.readString(lock).strip();
            return owner.isEmpty() ? "another process" : "process " + owner;
        } catch (IOException e) {
            return "another process";
        }
    }

    private static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            String env = System.getenv("HOSTNAME");
            return env == null ? "unknown-host" : env;
        }
    }

    private static void closeQuietly(Flock held) {
        try {
            held.close();
        } catch (IOException e) {
            // the descriptor is closed even so, and with it the lock
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort
        }
    }
}
