package io.layerscope.llamacpp;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A GGUF file's {@code general.type} ("imatrix", "model", ...), read from its key-value pairs as
 * ggml's gguf.cpp lays them out (little-endian; versions 2 and 3). It tells {@code --overwrite}
 * whether a file is an importance matrix it may replace; anything that is not a GGUF file, or is
 * cut short, has no type.
 */
final class GgufType {
    private static final int STRING = 8;
    private static final int ARRAY = 9;
    /** Bytes of each gguf_type 0..12 (string and array: variable, -1). */
    private static final int[] SIZES = {1, 1, 2, 2, 4, 4, 4, 1, -1, -1, 8, 8, 8};
    /** Longer keys or strings than this are no metadata of a file of ours, nor of llama.cpp's. */
    private static final long MAX_STRING = 1 << 20;

    private GgufType() {
    }

    static Optional<String> of(Path file) {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
            if (int32(in) != GgufWriter.MAGIC) {
                return Optional.empty();
            }
            int version = int32(in);
            if (version != 2 && version != 3) {
                return Optional.empty();
            }
            int64(in);   // tensor count
            long keys = int64(in);
            for (long k = 0; k < keys; k++) {
                String key = string(in);
                int type = int32(in);
                if (key.equals("general.type")) {
                    return type == STRING ? Optional.of(string(in)) : Optional.empty();
                }
                skip(in, type, 0);
            }
            return Optional.empty();
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static void skip(DataInputStream in, int type, int depth) throws IOException {
        if (type == STRING) {
            string(in);
        } else if (type == ARRAY && depth == 0) {
            int element = int32(in);
            long n = int64(in);
            if (n < 0) {
                throw new IllegalArgumentException("array of " + n);
            }
            for (long i = 0; i < n; i++) {
                skip(in, element, depth + 1);
            }
        } else if (type >= 0 && type < SIZES.length && SIZES[type] > 0) {
            in.skipNBytes(SIZES[type]);
        } else {
            throw new IllegalArgumentException("gguf type " + type);
        }
    }

    private static String string(DataInputStream in) throws IOException {
        long n = int64(in);
        if (n < 0 || n > MAX_STRING) {
            throw new IllegalArgumentException("string of " + n + " bytes");
        }
        byte[] b = new byte[(int) n];
        in.readFully(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    private static int int32(DataInputStream in) throws IOException {
        return Integer.reverseBytes(in.readInt());
    }

    private static long int64(DataInputStream in) throws IOException {
        return Long.reverseBytes(in.readLong());
    }
}
