package io.layerscope.reliability;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;

/**
 * A local Hadoop file system whose disk fills up: once {@link #FREE_BYTES} have been written through
 * it (in all files together), every write fails with "No space left on device", as a full disk does.
 * Installed for {@code file:} paths with {@code fs.file.impl} (and the FileSystem cache off); this is
 * how the Parquet writer meets a full disk where no small file system can be mounted.
 */
public final class FullDiskFileSystem extends RawLocalFileSystem {
    static final long FREE_BYTES = 16 * 1024;
    private static final AtomicLong WRITTEN = new AtomicLong();

    static void reset() {
        WRITTEN.set(0);
    }

    @Override
    protected OutputStream createOutputStream(Path f, boolean append) throws IOException {
        return new Filling(super.createOutputStream(f, append));
    }

    @Override
    protected OutputStream createOutputStreamWithMode(Path f, boolean append, FsPermission permission) throws IOException {
        return new Filling(super.createOutputStreamWithMode(f, append, permission));
    }

    private static final class Filling extends FilterOutputStream {
        Filling(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            reserve(1);
            out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            reserve(len);
            out.write(b, off, len);
        }

        private static void reserve(long n) throws IOException {
            if (WRITTEN.addAndGet(n) > FREE_BYTES) {
                throw new IOException("No space left on device");
            }
        }
    }
}
