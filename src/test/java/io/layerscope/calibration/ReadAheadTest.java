package io.layerscope.calibration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The read-ahead stream hands over exactly the source's bytes, then its end or its exception, and stops on close. */
class ReadAheadTest {
    private static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** A source that gives its bytes a few at a time, then throws {@code failure} (or ends when null). */
    private static final class Source extends InputStream {
        private final byte[] bytes;
        private final Exception failure;
        private int at;
        final AtomicBoolean closed = new AtomicBoolean();

        Source(byte[] bytes, Exception failure) {
            this.bytes = bytes;
            this.failure = failure;
        }

        @Override
        public int read() {
            throw new UnsupportedOperationException("read in arrays only");
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (at == bytes.length) {
                if (failure instanceof IOException io) {
                    throw io;
                }
                if (failure instanceof RuntimeException r) {
                    throw r;
                }
                return -1;
            }
            int n = Math.min(Math.min(len, 1000 + at % 777), bytes.length - at);   // uneven pieces
            System.arraycopy(bytes, at, b, off, n);
            at += n;
            return n;
        }

        @Override
        public void close() {
            closed.set(true);
        }
    }

    private static byte[] readAll(InputStream in, int piece, ByteArrayOutputStream got) throws IOException {
        byte[] buf = new byte[piece];
        int n;
        while ((n = in.read(buf, 0, piece)) >= 0) {
            got.write(buf, 0, n);
        }
        return got.toByteArray();
    }

    @Test
    void everyByteInOrderWhateverTheReadSizes() throws IOException {
        byte[] data = randomBytes(50 * 4096 + 123, 7);   // arrays recycled many times over
        for (int piece : new int[] {1, 100, 4096, 65536}) {
            Source s = new Source(data, null);
            try (ReadAhead in = new ReadAhead(s, 4096, 2, "read-ahead-test")) {
                assertArrayEquals(data, readAll(in, piece, new ByteArrayOutputStream()), "pieces of " + piece);
                assertEquals(-1, in.read(new byte[8], 0, 8), "the end, again");
                assertEquals(-1, in.read());
                assertEquals(0, in.read(new byte[8], 0, 0));
            }
            assertTrue(s.closed.get(), "closing closes the source");
        }
        try (ReadAhead in = new ReadAhead(new ByteArrayInputStream(new byte[] {(byte) 0xfe, 3}), 16, 1, "read-ahead-test")) {
            assertEquals(ints(0xfe, 3, -1), ints(in.read(), in.read(), in.read()));
        }
    }

    @Test
    void theSourcesExceptionComesAfterTheBytesBeforeIt() throws IOException {
        byte[] data = randomBytes(10_000, 8);
        EOFException truncated = new EOFException("Unexpected end of ZLIB input stream");
        try (ReadAhead in = new ReadAhead(new Source(data, truncated), 4096, 2, "read-ahead-test")) {
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            assertSame(truncated, assertThrows(EOFException.class, () -> readAll(in, 3000, got)),
                    "the same exception object: not taken for the end of the stream");
            assertArrayEquals(data, got.toByteArray(), "every byte before it");
            assertSame(truncated, assertThrows(EOFException.class, () -> in.read(new byte[4], 0, 4)), "and again");
        }
        IllegalStateException odd = new IllegalStateException("odd");
        try (ReadAhead in = new ReadAhead(new Source(new byte[0], odd), 4096, 2, "read-ahead-test")) {
            assertSame(odd, assertThrows(IllegalStateException.class, () -> in.read(new byte[4], 0, 4)));
        }
    }

    @Test
    void closingEarlyStopsTheThreadAndClosesTheSource() throws IOException, InterruptedException {
        // far more than the queue holds: the thread waits for room when close comes
        Source s = new Source(randomBytes(1 << 20, 9), null);
        ReadAhead in = new ReadAhead(s, 1024, 2, "read-ahead-closing");
        assertEquals(100, in.read(new byte[100], 0, 100));
        in.close();
        assertTrue(s.closed.get());
        assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().equals("read-ahead-closing")),
                "the reading thread ended");
        assertEquals("stream closed", assertThrows(IOException.class, () -> in.read(new byte[4], 0, 4)).getMessage());
        in.close();   // twice is harmless
    }

    private static java.util.List<Integer> ints(int... v) {
        return Arrays.stream(v).boxed().toList();
    }
}
