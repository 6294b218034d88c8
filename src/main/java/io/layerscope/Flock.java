package io.layerscope;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;

/**
 * flock(2) on a file descriptor of its own, through the C library (JNA). Unlike Java's file locks
 * (POSIX record locks, which belong to the process and go when any channel of the JVM on the file
 * closes), a flock belongs to its descriptor: two holders in one JVM exclude each other, and the
 * kernel releases it when its process dies, however it dies. It is the lock Python's
 * {@code filelock} takes.
 *
 * <pre>{@code
 * try (Flock held = Flock.tryExclusive(file)) {   // null: another holder has it
 *     ...
 * }
 * }</pre>
 */
public final class Flock implements AutoCloseable {
    private interface C extends Library {
        C LIBC = Native.load(Platform.C_LIBRARY_NAME, C.class);

        int open(String path, int flags, int mode) throws com.sun.jna.LastErrorException;

        int flock(int fd, int operation) throws com.sun.jna.LastErrorException;

        int close(int fd) throws com.sun.jna.LastErrorException;

        String strerror(int errnum);
    }

    /** Whether this platform has flock (not Windows). */
    public static final boolean AVAILABLE = !Platform.isWindows();

    private static final int LOCK_EX = 2;
    private static final int LOCK_NB = 4;
    private static final int LOCK_UN = 8;
    private static final int EINTR = 4;

    /** The file system has no flock (a cluster file system mounted without it: ENOLCK, EOPNOTSUPP, ENOSYS). */
    public static final class Unsupported extends IOException {
        private static final long serialVersionUID = 1L;

        Unsupported(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final int fd;

    /** The C library's words for a failed call's errno, and the number: "No space left on device (errno 28)". */
    static String reason(com.sun.jna.LastErrorException e) {
        String words = null;
        try {
            words = C.LIBC.strerror(e.getErrorCode());
        } catch (RuntimeException | UnsatisfiedLinkError unavailable) {
            // the number alone, as before
        }
        return (words == null || words.isBlank() ? "" : words + " ") + "(errno " + e.getErrorCode() + ")";
    }

    private Flock(int fd) {
        this.fd = fd;
    }

    /** Waits until this descriptor holds {@code file}'s exclusive flock (creating the file, as filelock does). */
    public static Flock exclusive(Path file) throws IOException {
        int fd = open(file);
        while (true) {
            try {
                C.LIBC.flock(fd, LOCK_EX);
                return new Flock(fd);
            } catch (com.sun.jna.LastErrorException e) {
                if (e.getErrorCode() != EINTR) {
                    C.LIBC.close(fd);
                    throw new IOException("cannot lock " + file + ": " + reason(e), e);
                }
            }
        }
    }

    /** {@code file}'s exclusive flock if no one holds it now (creating the file), else null. */
    public static Flock tryExclusive(Path file) throws IOException {
        int fd = open(file);
        while (true) {
            try {
                C.LIBC.flock(fd, LOCK_EX | LOCK_NB);
                return new Flock(fd);
            } catch (com.sun.jna.LastErrorException e) {
                if (e.getErrorCode() == EINTR) {
                    continue;
                }
                C.LIBC.close(fd);
                if (e.getErrorCode() == (Platform.isMac() ? 35 : 11)) {   // EWOULDBLOCK: held
                    return null;
                }
                // ENOLCK, EOPNOTSUPP (ENOTSUP on macOS), ENOSYS
                java.util.Set<Integer> unsupported = Platform.isMac() ? java.util.Set.of(77, 45, 78) : java.util.Set.of(37, 95, 38);
                if (unsupported.contains(e.getErrorCode())) {
                    throw new Unsupported(reason(e), e);
                }
                throw new IOException("cannot lock " + file + ": " + reason(e), e);
            }
        }
    }

    private static int open(Path file) throws IOException {
        try {
            return C.LIBC.open(file.toString(), openFlags(), 0644);
        } catch (com.sun.jna.LastErrorException e) {
            if (e.getErrorCode() == 13) {   // EACCES: another user's file; a flock needs no write access
                try {
                    return C.LIBC.open(file.toString(), Platform.isMac() ? 0x1000000 : 0x80000, 0);   // O_RDONLY | O_CLOEXEC
                } catch (com.sun.jna.LastErrorException again) {
                    throw new IOException("cannot open the lock file " + file + ": " + reason(again), again);
                }
            }
            throw new IOException("cannot open the lock file " + file + ": " + reason(e), e);
        }
    }

    /** O_RDWR | O_CREAT | O_CLOEXEC, whose values differ between Linux and macOS. */
    private static int openFlags() {
        return Platform.isMac() ? 0x2 | 0x200 | 0x1000000 : 0x2 | 0x40 | 0x80000;
    }

    /**
     * Whether {@code file} still names the file this lock holds: a holder that deletes the lock file
     * as it finishes leaves whoever opened it before with a lock on a file no path names. True where
     * this cannot be checked (no /proc).
     */
    public boolean isAt(Path file) {
        Path self = Path.of("/proc/self/fd/" + fd);
        if (!Files.exists(self)) {
            return true;
        }
        try {
            Map<String, Object> held = Files.readAttributes(self, "unix:dev,ino");
            Map<String, Object> named = Files.readAttributes(file, "unix:dev,ino", LinkOption.NOFOLLOW_LINKS);
            return held.equals(named);
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    @Override
    public void close() throws IOException {
        try {
            C.LIBC.flock(fd, LOCK_UN);
        } catch (com.sun.jna.LastErrorException e) {
            throw new IOException("cannot unlock " + fd + ": " + reason(e), e);
        } finally {
            C.LIBC.close(fd);
        }
    }
}
