package io.layerscope.calibration;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import java.util.zip.ZipException;

/**
 * Decompresses gzip data as Python's {@code gzip} module does: one or more members, each checked
 * against its CRC-32 and length, then nothing but zero padding. {@link java.util.zip.GZIPInputStream}
 * ignores whatever follows the last member when it does not look like a gzip header, so a shard
 * with garbage appended read cleanly; here that is a {@link TrailingData} error, as in Python.
 *
 * <p>A truncated stream ends in {@link EOFException}, corrupt data in {@link ZipException}.
 */
final class GzipMembers extends InputStream {
    private static final int FHCRC = 2;
    private static final int FEXTRA = 4;
    private static final int FNAME = 8;
    private static final int FCOMMENT = 16;

    /** Bytes that follow the last gzip member and are neither zero padding nor another member. */
    static final class TrailingData extends ZipException {
        private static final long serialVersionUID = 1L;
        private final String firstBytes;

        TrailingData(String firstBytes) {
            super("data that is not gzip follows the end of the gzip stream (starting " + firstBytes + ")");
            this.firstBytes = firstBytes;
        }

        String firstBytes() {
            return firstBytes;
        }
    }

    private final PushbackInputStream in;
    private final Inflater inflater = new Inflater(true);
    private final CRC32 crc = new CRC32();
    private final byte[] buffer;
    private int bufferFilled;
    private long memberLength;
    private boolean ended;

    GzipMembers(InputStream raw, int bufferSize) throws IOException {
        this.buffer = new byte[bufferSize];
        this.in = new PushbackInputStream(raw, bufferSize);
        readHeader();
    }

    @Override
    public int read() throws IOException {
        return readOne(this);
    }

    /** {@link InputStream#read()} through {@code in}'s array read, for streams that read only in arrays. */
    static int readOne(InputStream in) throws IOException {
        byte[] one = new byte[1];
        int n = in.read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (!ended) {
            int n;
            try {
                n = inflater.inflate(b, off, len);
            } catch (DataFormatException e) {
                throw new ZipException(e.getMessage() == null ? "invalid deflate data" : e.getMessage());
            }
            if (n > 0) {
                crc.update(b, off, n);
                memberLength += n;
                return n;
            }
            if (inflater.finished()) {
                int rest = inflater.getRemaining();
                if (rest > 0) {
                    in.unread(buffer, bufferFilled - rest, rest);
                }
                readTrailer();
                ended = !nextMember();
            } else if (inflater.needsDictionary()) {
                throw new ZipException("deflate data needs a preset dictionary, which gzip never uses");
            } else if (inflater.needsInput()) {
                bufferFilled = in.read(buffer);
                if (bufferFilled < 0) {
                    throw new EOFException("Unexpected end of ZLIB input stream");
                }
                inflater.setInput(buffer, 0, bufferFilled);
            }
        }
        return -1;
    }

    private void readHeader() throws IOException {
        byte[] h = readFully(10);
        if ((h[0] & 0xff) != 0x1f || (h[1] & 0xff) != 0x8b) {
            throw new ZipException("Not in GZIP format");
        }
        if (h[2] != 8) {
            throw new ZipException("Unsupported compression method " + (h[2] & 0xff));
        }
        int flags = h[3] & 0xff;
        if ((flags & FEXTRA) != 0) {
            byte[] n = readFully(2);
            readFully((n[0] & 0xff) | (n[1] & 0xff) << 8);
        }
        if ((flags & FNAME) != 0) {
            skipZeroTerminated();
        }
        if ((flags & FCOMMENT) != 0) {
            skipZeroTerminated();
        }
        if ((flags & FHCRC) != 0) {
            readFully(2);
        }
        inflater.reset();
        crc.reset();
        memberLength = 0;
    }

    private void readTrailer() throws IOException {
        byte[] t = readFully(8);
        long storedCrc = le32(t, 0);
        long storedLength = le32(t, 4);
        if (storedCrc != crc.getValue() || storedLength != (memberLength & 0xffffffffL)) {
            throw new ZipException("Corrupt GZIP trailer (CRC-32 or length mismatch)");
        }
    }

    /** After a member: zero padding then the end, or another member; anything else is {@link TrailingData}. */
    private boolean nextMember() throws IOException {
        int c = in.read();
        while (c == 0) {
            c = in.read();
        }
        if (c < 0) {
            return false;
        }
        int c2 = in.read();
        if (c != 0x1f || c2 != 0x8b) {
            StringBuilder first = new StringBuilder(String.format("%02x", c));
            int b = c2;
            for (int i = 0; i < 3 && b >= 0; i++) {
                first.append(String.format(" %02x", b));
                b = i < 2 ? in.read() : -1;
            }
            throw new TrailingData(first.toString());
        }
        in.unread(0x8b);
        in.unread(0x1f);
        readHeader();
        return true;
    }

    private void skipZeroTerminated() throws IOException {
        int b;
        do {
            b = in.read();
            if (b < 0) {
                throw new EOFException("Unexpected end of gzip header");
            }
        } while (b != 0);
    }

    private byte[] readFully(int n) throws IOException {
        byte[] out = new byte[n];
        int got = 0;
        while (got < n) {
            int r = in.read(out, got, n - got);
            if (r < 0) {
                throw new EOFException("Unexpected end of gzip stream");
            }
            got += r;
        }
        return out;
    }

    private static long le32(byte[] b, int at) {
        return (b[at] & 0xffL) | (b[at + 1] & 0xffL) << 8 | (b[at + 2] & 0xffL) << 16 | (b[at + 3] & 0xffL) << 24;
    }

    @Override
    public void close() throws IOException {
        inflater.end();
        in.close();
    }
}
