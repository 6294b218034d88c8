package io.layerscope;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * SHA-256 digests as the Hub writes them: 64 lower-case hex digits (an LFS file's oid and ETag).
 * {@link #of} also serves run.json's weight-file hashes.
 */
public final class Sha256 {

    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");

    private Sha256() {
    }

    /** A new SHA-256 digest (every Java runtime has one). */
    public static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    /** True when {@code etag} has the shape of a sha256, i.e. the Hub stored the file in LFS. */
    public static boolean isSha256(String etag) {
        return etag != null && HEX64.matcher(etag).matches();
    }

    /** The digest's value as 64 lower-case hex digits (it is reset). */
    public static String hex(MessageDigest digest) {
        return HexFormat.of().formatHex(digest.digest());
    }

    /**
     * Reads {@code file} fully; follows symbolic links. An interrupted thread stops at the next
     * megabyte (a multi-GB checkpoint need not be read to the end for a job that gave up).
     *
     * @throws InterruptedIOException when the calling thread is interrupted
     */
    public static String of(Path file) throws IOException {
        MessageDigest digest = newDigest();
        byte[] buffer = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                if (Thread.currentThread().isInterrupted()) {
                    throw new InterruptedIOException("hashing " + file + " stopped");
                }
                digest.update(buffer, 0, n);
            }
        }
        return hex(digest);
    }

    /** The digest of {@code bytes}. */
    public static String of(byte[] bytes) {
        MessageDigest digest = newDigest();
        digest.update(bytes);
        return hex(digest);
    }

    /** Feeds the first {@code length} bytes of {@code file} into {@code digest} (to resume a download). */
    public static void update(MessageDigest digest, Path file, long length) throws IOException {
        byte[] buffer = new byte[1 << 20];
        long left = length;
        try (InputStream in = Files.newInputStream(file)) {
            while (left > 0) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (n < 0) {
                    throw new IOException(file + " is shorter than " + length + " bytes");
                }
                digest.update(buffer, 0, n);
                left -= n;
            }
        }
    }
}
