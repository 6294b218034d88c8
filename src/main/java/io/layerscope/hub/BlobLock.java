package io.layerscope.hub;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Exclusive right to write one blob, held across threads of this JVM and across processes sharing
 * the cache, on {@code .locks/<repo folder>/<etag>.lock}, the file huggingface_hub locks for the
 * same blob. The lock is flock(2), the call Python's {@code filelock} makes, so a Python download
 * of the same blob and this one take turns: Java's own file locks are POSIX record locks, which on
 * Linux do not exclude flock() locks. Where there is no flock (Windows), Java's file lock is used.
 */
final class BlobLock implements AutoCloseable {
    private static final ConcurrentHashMap<Path, ReentrantLock> IN_THIS_JVM = new ConcurrentHashMap<>();

    private final ReentrantLock threadLock;
    private final AutoCloseable processLock;

    private BlobLock(ReentrantLock threadLock, AutoCloseable processLock) {
        this.threadLock = threadLock;
        this.processLock = processLock;
    }

    static BlobLock acquire(Path lockFile) throws IOException {
        ReentrantLock threadLock = IN_THIS_JVM.computeIfAbsent(lockFile.toAbsolutePath(), p -> new ReentrantLock());
        threadLock.lock();
        try {
            Files.createDirectories(lockFile.getParent());
            return new BlobLock(threadLock, Platform.isWindows() ? javaLock(lockFile) : Flock.exclusive(lockFile));
        } catch (IOException | RuntimeException e) {
            threadLock.unlock();
            throw e;
        }
    }

    private static AutoCloseable javaLock(Path lockFile) throws IOException {
        java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(lockFile,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
        try {
            java.nio.channels.FileLock lock = channel.lock();
            return () -> {
                lock.release();
                channel.close();
            };
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    @Override
    public void close() throws IOException {
        try {
            processLock.close();
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        } finally {
            threadLock.unlock();
        }
    }

    /** flock(2) on a file descriptor of its own, through the C library (JNA). */
    static final class Flock implements AutoCloseable {
        private interface C extends Library {
            C LIBC = Native.load(Platform.C_LIBRARY_NAME, C.class);

            int open(String path, int flags, int mode) throws com.sun.jna.LastErrorException;

            int flock(int fd, int operation) throws com.sun.jna.LastErrorException;

            int close(int fd) throws com.sun.jna.LastErrorException;
        }

        private static final int LOCK_EX = 2;
        private static final int LOCK_UN = 8;
        private static final int EINTR = 4;

        private final int fd;

        private Flock(int fd) {
            this.fd = fd;
        }

        /** Waits until this process holds {@code file}'s exclusive flock (creating the file, as filelock does). */
        static Flock exclusive(Path file) throws IOException {
            int fd;
            try {
                fd = C.LIBC.open(file.toString(), openFlags(), 0644);
            } catch (com.sun.jna.LastErrorException e) {
                throw new IOException("cannot open the lock file " + file + ": errno " + e.getErrorCode(), e);
            }
            while (true) {
                try {
                    C.LIBC.flock(fd, LOCK_EX);
                    return new Flock(fd);
                } catch (com.sun.jna.LastErrorException e) {
                    if (e.getErrorCode() != EINTR) {
                        C.LIBC.close(fd);
                        throw new IOException("cannot lock " + file + ": errno " + e.getErrorCode(), e);
                    }
                }
            }
        }

        /** O_RDWR | O_CREAT | O_CLOEXEC, whose values differ between Linux and macOS. */
        private static int openFlags() {
            return Platform.isMac() ? 0x2 | 0x200 | 0x1000000 : 0x2 | 0x40 | 0x80000;
        }

        @Override
        public void close() throws IOException {
            try {
                C.LIBC.flock(fd, LOCK_UN);
            } catch (com.sun.jna.LastErrorException e) {
                throw new IOException("cannot unlock a blob lock: errno " + e.getErrorCode(), e);
            } finally {
                C.LIBC.close(fd);
            }
        }
    }
}
