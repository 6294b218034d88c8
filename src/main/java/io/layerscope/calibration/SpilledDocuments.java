package io.layerscope.calibration;

import io.layerscope.LayerscopeException;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Documents whose texts live in a temporary UTF-8 spill file, one after another, located by
 * offsets kept in memory (8 bytes per document). Reads are positional, so {@link #text(int)} is
 * safe from several threads. Texts holding unpaired UTF-16 surrogates (impossible in valid UTF-8
 * input, possible through JSON escapes) come back with '?' in their place.
 */
final class SpilledDocuments implements Documents {
    private final Path spill;
    private final FileChannel channel;
    private final long[] offsets; // document i is bytes [offsets[i], offsets[i + 1])
    private final int size;

    private SpilledDocuments(Path spill, FileChannel channel, long[] offsets, int size) {
        this.spill = spill;
        this.channel = channel;
        this.offsets = offsets;
        this.size = size;
    }

    /** Streams every file once, appending each text to a new spill file in {@code spillDirectory}. */
    static SpilledDocuments read(List<Path> files, Path spillDirectory) {
        Path spill = createSpill(spillDirectory);
        boolean complete = false;
        try {
            OffsetLog log = new OffsetLog();
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(spill), 1 << 16)) {
                for (Path file : files) {
                    JsonLinesReader.read(file, text -> log.append(out, text));
                }
            }
            if (log.size == 0) {
                String names = files.stream().map(Path::toString).collect(Collectors.joining(", "));
                throw new LayerscopeException("no calibration documents in " + names
                        + ": the input holds only blank lines; use a C4 shard or another non-empty JSON-lines file");
            }
            FileChannel channel = FileChannel.open(spill, StandardOpenOption.READ);
            complete = true;
            return new SpilledDocuments(spill, channel, Arrays.copyOf(log.offsets, log.size + 1), log.size);
        } catch (IOException | UncheckedIOException e) {
            Throwable cause = e instanceof UncheckedIOException ? e.getCause() : e;
            throw new LayerscopeException("cannot write the calibration spill file " + spill + " (" + cause.getMessage()
                    + "); free disk space there or choose another temporary directory", cause);
        } finally {
            if (!complete) {
                deleteQuietly(spill);
            }
        }
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public String text(int index) {
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException("document " + index + " of " + size);
        }
        if (!channel.isOpen()) {
            throw new IllegalStateException("documents were closed; spill file " + spill + " is gone");
        }
        long begin = offsets[index];
        ByteBuffer bytes = ByteBuffer.allocate(Math.toIntExact(offsets[index + 1] - begin));
        try {
            while (bytes.hasRemaining()) {
                if (channel.read(bytes, begin + bytes.position()) < 0) {
                    throw new IOException("spill file ended early");
                }
            }
        } catch (IOException e) {
            throw new LayerscopeException("cannot read document " + index + " back from the spill file " + spill
                    + " (" + e.getMessage() + ")", e);
        }
        return new String(bytes.array(), StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // closing a read-only channel cannot lose data; the file is deleted below regardless
        }
        deleteQuietly(spill);
    }

    private static Path createSpill(Path directory) {
        try {
            Files.createDirectories(directory);
            Path spill = Files.createTempFile(directory, "layerscope-documents-", ".utf8");
            spill.toFile().deleteOnExit();
            return spill;
        } catch (IOException e) {
            throw new LayerscopeException("cannot create a calibration spill file in " + directory + " ("
                    + e.getMessage() + "); set java.io.tmpdir to a writable directory with room for the texts", e);
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // deleteOnExit remains as the fallback
        }
    }

    /** Growing list of end offsets while the spill file is written. */
    private static final class OffsetLog {
        long[] offsets = new long[1024];
        int size;

        void append(OutputStream out, String text) {
            byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
            try {
                out.write(utf8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (size + 2 > offsets.length) {
                if (offsets.length >= Integer.MAX_VALUE / 2) {
                    throw new LayerscopeException("more than " + size + " calibration documents; use fewer files");
                }
                offsets = Arrays.copyOf(offsets, offsets.length * 2);
            }
            offsets[size + 1] = offsets[size] + utf8.length;
            size++;
        }
    }
}
