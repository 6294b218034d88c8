package io.layerscope.calibration;

import io.layerscope.Failures;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * An input stream whose source is read on a thread of its own, a few chunks ahead, so that
 * decompressing a calibration shard (zlib's inflate and the CRC: half of reading one) runs beside
 * the splitting and parsing of its lines instead of before them.
 *
 * <p>The reader sees exactly what the source gave, in order: the bytes, then the end, or the
 * exception the source threw at that point (the same object, so a truncated gzip stream still ends
 * in {@link java.io.EOFException} after the last complete line). Spark's and Commons IO's
 * {@code ReadAheadInputStream} take an {@code EOFException} for the end of the stream, which would
 * read a truncated shard as a complete one.
 */
final class ReadAhead extends InputStream {
    private record Chunk(byte[] bytes, int length, Throwable failure) {
    }

    private static final Chunk END = new Chunk(new byte[0], -1, null);

    private final InputStream source;
    private final BlockingQueue<Chunk> chunks;
    /** Arrays the reader is done with, for the thread to fill again instead of allocating afresh. */
    private final BlockingQueue<byte[]> free;
    private final Thread reader;
    private volatile boolean closed;
    private Chunk current;
    private int position;

    /** Starts reading {@code source} in chunks of {@code chunkSize} bytes, at most {@code chunksAhead} ahead. */
    ReadAhead(InputStream source, int chunkSize, int chunksAhead, String threadName) {
        this.source = source;
        this.chunks = new ArrayBlockingQueue<>(chunksAhead);
        this.free = new ArrayBlockingQueue<>(chunksAhead + 2);
        this.reader = new Thread(() -> readAll(chunkSize), threadName);
        reader.setDaemon(true);
        reader.start();
    }

    private void readAll(int chunkSize) {
        try {
            while (!closed) {
                byte[] recycled = free.poll();
                byte[] bytes = recycled != null ? recycled : new byte[chunkSize];
                int n = source.read(bytes, 0, chunkSize);
                if (n < 0) {
                    chunks.put(END);
                    return;
                }
                chunks.put(new Chunk(bytes, n, null));
            }
        } catch (InterruptedException e) {
            // closed while waiting for room: nobody reads on
        } catch (Throwable t) {
            if (!closed) {
                try {
                    chunks.put(new Chunk(null, 0, t));
                } catch (InterruptedException closing) {
                    // closed meanwhile
                }
            }
        }
    }

    @Override
    public int read() throws IOException {
        return GzipMembers.readOne(this);
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (closed) {
            throw new IOException("stream closed");
        }
        if (len == 0) {
            return 0;
        }
        if (current == null || (current.failure() == null && current.length() >= 0 && position == current.length())) {
            if (current != null && current.length() > 0) {
                free.offer(current.bytes());   // fully read: the thread may fill it again
                current = null;                // and never offered twice, even if take() is interrupted
            }
            try {
                current = chunks.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while reading the calibration data");
            }
            position = 0;
        }
        if (current.failure() != null) {
            throw Failures.asIOException(current.failure());
        }
        if (current.length() < 0) {
            return -1;
        }
        int n = Math.min(len, current.length() - position);
        System.arraycopy(current.bytes(), position, b, off, n);
        position += n;
        return n;
    }

    /** Stops the reading thread, waits for it, then closes the source. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        reader.interrupt();
        chunks.clear();
        try {
            reader.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            source.close();
        }
    }
}
