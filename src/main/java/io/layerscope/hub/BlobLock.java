package io.layerscope.hub;

import com.sun.jna.Platform;
import io.layerscope.Flock;
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
}
