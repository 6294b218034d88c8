package io.layerscope.calibration;

import io.layerscope.CacheEntries;
import io.layerscope.FileIdentity;
import io.layerscope.WholeFiles;
import io.layerscope.Sha256;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Wanda's calibration windows, remembered between runs. Sampling reads the whole calibration source
 * (a C4 shard is 356k documents, 0.9 GB of JSON behind gzip) and loads the tokenizer, which costs a
 * sweep seconds on every run; the windows themselves are small (128 x 2048 tokens is 1 MiB). An entry
 * is keyed by everything that decides them, so a later run with the same key reads the windows
 * instead of sampling again, as the Hugging Face datasets cache spares Wanda's users the shard.
 *
 * <p>The key hashes this build of layerscope (the sampler's code), every calibration file's real
 * path and {@link FileIdentity} in reading order (a rewrite, even one that keeps size and mtime,
 * misses), the tokenizer file's SHA-256, --nsamples, --seqlen and --seed. An entry is written whole
 * or not at all, ends with the SHA-256 of its bytes, and is checked field by field when read: an
 * entry that fails is reported and the windows are sampled again. The directory is kept within
 * {@link #MAX_BYTES} by removing the least recently used entries.
 *
 * <pre>{@code
 * RememberedWindows remembered = RememberedWindows.in(dir);
 * String key = RememberedWindows.key(files, tokenizerSha256, 128, 2048, 0, build);
 * Optional<RememberedWindows.Entry> e = remembered.find(key, 128, 2048, System.err);
 * }</pre>
 */
public final class RememberedWindows {
    private static final String FORMAT = "layerscope windows 1";
    private static final byte[] MAGIC = (FORMAT + "\n").getBytes(StandardCharsets.US_ASCII);
    private static final int DIGEST_BYTES = 32;
    /** An entry's file name: the key is a SHA-256 in hex. */
    private static final Pattern ENTRY = Pattern.compile("windows-([0-9a-f]{64})\\.bin");
    /** What the directory's entries may take: hundreds of Wanda-sized sets of windows. */
    public static final long MAX_BYTES = 256L << 20;

    /**
     * Windows read back: the entry's file, when and by which run they were sampled, how long that
     * took, the number of documents the source held, and the windows.
     */
    public record Entry(Path file, String createdAt, String runId, double seconds, int documents,
                        List<CalibrationSample> samples) {
    }

    private final Path dir;
    private final long maxBytes;

    RememberedWindows(Path dir, long maxBytes) {
        this.dir = dir;
        this.maxBytes = maxBytes;
    }

    /** The entries in {@code dir} (created when the first is stored), kept within {@link #MAX_BYTES}. */
    public static RememberedWindows in(Path dir) {
        return new RememberedWindows(dir, MAX_BYTES);
    }

    /** Where the entry of {@code key} lives. */
    public Path file(String key) {
        return dir.resolve("windows-" + key + ".bin");
    }

    /**
     * The key of the windows sampled from {@code files} (the expanded list, in reading order) with
     * the tokenizer of SHA-256 {@code tokenizerSha256}, by the build {@code build}: a SHA-256 in hex.
     *
     * @throws IOException when a calibration file cannot be resolved or its attributes read
     */
    public static String key(List<Path> files, String tokenizerSha256, int nsamples, int seqlen, long seed, String build)
            throws IOException {
        MessageDigest sha = Sha256.newDigest();
        try (DataOutputStream d = new DataOutputStream(new DigestOutputStream(OutputStream.nullOutputStream(), sha))) {
            d.writeUTF(FORMAT);
            d.writeUTF(build);
            List<Path> expanded = DocumentFiles.expand(files);
            d.writeInt(expanded.size());
            for (Path f : expanded) {
                Path real = f.toRealPath();
                d.writeUTF(real.toString());
                d.writeUTF(FileIdentity.describe(real));
            }
            d.writeUTF(tokenizerSha256);
            d.writeInt(nsamples);
            d.writeInt(seqlen);
            d.writeLong(seed);
        }
        return Sha256.hex(sha);
    }

    /**
     * The windows stored under {@code key}, or empty when there are none or they cannot be used (then
     * {@code err} says why and the caller samples; storing replaces the file).
     */
    public Optional<Entry> find(String key, int nsamples, int seqlen, PrintStream err) {
        Path f = file(key);
        byte[] bytes;
        try {
            // what nsamples windows of seqlen tokens take, with room for the key, times and run id
            long most = nsamples * windowBytes(seqlen) + 4096;
            long size = Files.size(f);
            if (size > most) {
                return unusable(f, "it takes " + size + " bytes, more than " + nsamples + " windows of " + seqlen
                        + " tokens can", err);
            }
            bytes = Files.readAllBytes(f);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            return unusable(f, "unreadable: " + e.getMessage(), err);
        }
        try {
            Entry e = parse(f, bytes, key, nsamples, seqlen);
            CacheEntries.markUsed(f);
            return Optional.of(e);
        } catch (IOException | IllegalArgumentException e) {
            return unusable(f, e instanceof EOFException ? "it ends early" : e.getMessage(), err);
        }
    }

    private static Entry parse(Path f, byte[] bytes, String key, int nsamples, int seqlen) throws IOException {
        if (bytes.length < MAGIC.length + DIGEST_BYTES
                || !Arrays.equals(Arrays.copyOf(bytes, MAGIC.length), MAGIC)) {
            throw new IOException("not a layerscope windows entry of this version");
        }
        int body = bytes.length - DIGEST_BYTES;
        MessageDigest sha = Sha256.newDigest();
        sha.update(bytes, 0, body);
        if (!Arrays.equals(sha.digest(), Arrays.copyOfRange(bytes, body, bytes.length))) {
            throw new IOException("its checksum does not match its content");
        }
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes, MAGIC.length, body - MAGIC.length));
        if (!key.equals(in.readUTF())) {
            throw new IOException("it was stored under another key");
        }
        String createdAt = in.readUTF();
        String runId = in.readUTF();
        double seconds = in.readDouble();
        int documents = in.readInt();
        int count = in.readInt();
        int length = in.readInt();
        if (count != nsamples || length != seqlen) {
            throw new IOException("it holds " + count + " windows of " + length + " tokens, not " + nsamples + " of " + seqlen);
        }
        if (count * windowBytes(length) != in.available()) {
            throw new IOException("its size does not fit " + count + " windows of " + length + " tokens");
        }
        List<CalibrationSample> samples = new ArrayList<>(count);
        for (int s = 0; s < count; s++) {
            int sample = in.readInt();
            int doc = in.readInt();
            int start = in.readInt();
            int[] tokens = new int[length];
            for (int t = 0; t < length; t++) {
                tokens[t] = in.readInt();
                if (tokens[t] < 0) {
                    throw new IOException("window " + s + " holds the negative token id " + tokens[t]);
                }
            }
            if (sample != s || doc < 0 || doc >= documents || start < 0) {
                throw new IOException("window " + s + " is numbered " + sample + ", from document " + doc + " of "
                        + documents + " at token " + start);
            }
            samples.add(new CalibrationSample(sample, doc, start, tokens));
        }
        return new Entry(f, createdAt, runId, seconds, documents, List.copyOf(samples));
    }

    /** A stored window's bytes: its sample, document and start, then its tokens, each a 4-byte int. */
    private static long windowBytes(int seqlen) {
        return 4L * (3 + seqlen);
    }

    private static Optional<Entry> unusable(Path f, String why, PrintStream err) {
        err.printf("calibration: the remembered windows %s cannot be used (%s); sampling them again%n", f, why);
        return Optional.empty();
    }

    /**
     * Stores {@code samples} under {@code key} with what {@link Entry} reads back. A failure is
     * reported on {@code err} and leaves no temporary file; the run goes on without it.
     *
     * @return the entry's file, or empty when it could not be stored
     */
    public Optional<Path> store(String key, String runId, double seconds, int documents, List<CalibrationSample> samples,
                                PrintStream err) {
        Path f = file(key);
        try {
            Files.createDirectories(dir);
            WholeFiles.write(f, out -> {
                MessageDigest sha = Sha256.newDigest();
                DataOutputStream d = new DataOutputStream(new DigestOutputStream(out, sha));
                d.write(MAGIC);
                d.writeUTF(key);
                d.writeUTF(Instant.now().toString());
                d.writeUTF(runId);
                d.writeDouble(seconds);
                d.writeInt(documents);
                d.writeInt(samples.size());
                d.writeInt(samples.isEmpty() ? 0 : samples.get(0).length());
                for (CalibrationSample s : samples) {
                    d.writeInt(s.sample());
                    d.writeInt(s.doc());
                    d.writeInt(s.start());
                    for (int t : s.tokens()) {
                        d.writeInt(t);
                    }
                }
                d.flush();
                out.write(sha.digest());
            }, WholeFiles.Durability.CACHED);
            return Optional.of(f);
        } catch (IOException | RuntimeException e) {
            err.printf("calibration: cannot remember the windows in %s (%s); the next run samples them again%n", dir,
                    e.getMessage());
            return Optional.empty();
        }
    }

    /**
     * Keeps the directory within its bytes ({@link CacheEntries#trim}): removes the least recently used
     * entries, never that of {@code keep}, and temporary files older than {@link WholeFiles#ABANDONED}; other
     * files are left alone.
     *
     * @return the number of entries removed
     */
    public int trim(String keep) {
        List<CacheEntries.Entry> entries;
        try {
            entries = CacheEntries.scan(dir, f -> {
                Matcher m = ENTRY.matcher(f.getFileName().toString());
                return m.matches() ? new CacheEntries.Entry(m.group(1), List.of(f), Files.size(f), Files.getLastModifiedTime(f))
                        : null;
            });
        } catch (IOException e) {
            return 0; // no directory yet, or unreadable: nothing this run can trim
        }
        return CacheEntries.trim(entries, keep, maxBytes).entries();
    }
}
