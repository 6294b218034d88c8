package io.layerscope.calibration;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerscope.LayerscopeException;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.zip.ZipException;

/**
 * Streams the {@code text} of every line of one JSON-lines file (C4 format), gzip or plain, line
 * by line: a shard is never held whole. Errors name the file and the line.
 */
final class JsonLinesReader {
    /** The longest JSON string a line may hold (Jackson's default limit, made explicit to be named). */
    static final int MAX_STRING = 20_000_000;
    /** The longest line read: MAX_STRING characters, each written as a six-byte escape, and then some. */
    static final int MAX_LINE_BYTES = 128 << 20;
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(MAX_STRING).build()).build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final int BUFFER = 1 << 16;
    /** Decompressed bytes handed from the inflating thread at a time, and how many of those may wait. */
    private static final int INFLATED_CHUNK = 1 << 18;
    private static final int CHUNKS_AHEAD = 4;
    private static final String EXPECTED = "every line must be one JSON object with a \"text\" string, as in C4";

    private JsonLinesReader() {
    }

    /**
     * Hands the text of each non-blank line of {@code file} to {@code sink}, in order. Data starting
     * with the gzip signature is decompressed; a name ending in {@code .gz} must hold gzip data.
     *
     * @return the number of texts handed over
     */
    static int read(Path file, Consumer<String> sink) {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), BUFFER);
                InputStream in = decompressed(file, raw)) {
            return readLines(file, in, sink);
        } catch (NoSuchFileException e) {
            throw new LayerscopeException(file + ": no such calibration file or directory");
        } catch (IOException e) {
            throw new LayerscopeException(file + ": cannot read the calibration file (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Splits the bytes at '\n' itself (rather than through a BufferedReader, whose read-ahead would
     * swallow complete lines when the gzip stream breaks) so a truncated shard is reported after
     * exactly the last line that arrived whole.
     */
    private static int readLines(Path file, InputStream in, Consumer<String> sink) throws IOException {
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        byte[] chunk = new byte[BUFFER];
        byte[] line = new byte[BUFFER];
        int lineLength = 0;
        int lineNumber = 0;
        int texts = 0;
        while (true) {
            int n;
            try {
                n = in.read(chunk);
            } catch (EOFException e) {
                throw truncated(file, lineNumber);
            } catch (GzipMembers.TrailingData e) {
                throw new LayerscopeException(file + ": bytes that are not gzip (" + e.firstBytes() + " ...) follow the end of"
                        + " the gzip data, after line " + lineNumber + "; the file is corrupt or something was appended to it"
                        + " (Python's gzip refuses it too): delete it and download it again", e);
            } catch (ZipException e) {
                throw new LayerscopeException(file + ": corrupt gzip data " + after(lineNumber) + " (" + e.getMessage()
                        + "); delete the file and download it again", e);
            }
            if (n < 0) {
                break;
            }
            int from = 0;
            for (int i = 0; i < n; i++) {
                if (chunk[i] == '\n') {
                    line = append(line, lineLength, chunk, from, i - from);
                    lineLength += i - from;
                    from = i + 1;
                    lineNumber++;
                    texts += handle(file, lineNumber, line, lineLength, utf8, sink);
                    lineLength = 0;
                }
            }
            line = append(line, lineLength, chunk, from, n - from);
            lineLength += n - from;
            if (lineLength > MAX_LINE_BYTES) {
                throw new LayerscopeException(file + ", line " + (lineNumber + 1) + ": longer than " + (MAX_LINE_BYTES >> 20)
                        + " MiB, the longest line layerscope reads (a C4 document is a few kB); " + EXPECTED);
            }
        }
        if (lineLength > 0) { // a last line without a newline
            lineNumber++;
            texts += handle(file, lineNumber, line, lineLength, utf8, sink);
        }
        return texts;
    }

    /** Hands the text of one line to the sink; returns 1, or 0 for a blank line. */
    private static int handle(Path file, int lineNumber, byte[] line, int length, CharsetDecoder utf8,
            Consumer<String> sink) {
        if (isBlank(line, length)) {
            return 0;
        }
        // the String constructor's fast path; it replaces malformed input, so only a line that comes out with a
        // replacement character (rare in real text) is decoded again strictly to tell which it was
        String content = new String(line, 0, length, StandardCharsets.UTF_8);
        if (content.indexOf('\uFFFD') >= 0) {
            try {
                utf8.reset().decode(ByteBuffer.wrap(line, 0, length));
            } catch (CharacterCodingException e) {
                throw new LayerscopeException(file + ", line " + lineNumber + ": not valid UTF-8 text");
            }
        }
        sink.accept(text(file, lineNumber, content));
        return 1;
    }

    private static boolean isBlank(byte[] line, int length) {
        for (int i = 0; i < length; i++) {
            byte b = line[i];
            if (b != ' ' && b != '\t' && b != '\r' && b != '\f' && b != 0x0b) {
                return false;
            }
        }
        return true;
    }

    private static byte[] append(byte[] line, int length, byte[] chunk, int from, int count) {
        if (length + count > line.length) {
            line = Arrays.copyOf(line, Math.max(line.length * 2, length + count));
        }
        System.arraycopy(chunk, from, line, length, count);
        return line;
    }

    /** Wraps {@code raw} in a gzip decoder when its first bytes are the gzip signature (1f 8b). */
    private static InputStream decompressed(Path file, InputStream raw) throws IOException {
        raw.mark(2);
        int b0 = raw.read();
        int b1 = raw.read();
        raw.reset();
        boolean gzipName = file.getFileName().toString().endsWith(".gz");
        boolean gzipData = b0 == 0x1f && b1 == 0x8b;
        if (gzipName && !gzipData) {
            if (b1 < 0 && (b0 < 0 || b0 == 0x1f)) {
                throw truncated(file, 0);
            }
            throw new LayerscopeException(file + ": not a gzip file although its name ends in .gz (it does "
                    + "not start with the gzip signature 1f 8b); download it again, or give an uncompressed "
                    + "JSON-lines file a .json or .jsonl name");
        }
        if (!gzipData) {
            return raw;
        }
        try {
            // inflating is half of reading a shard: on a thread of its own it runs beside the lines' parsing
            return new ReadAhead(new GzipMembers(raw, BUFFER), INFLATED_CHUNK, CHUNKS_AHEAD, "layerscope-inflate");
        } catch (EOFException e) {
            throw truncated(file, 0);
        } catch (ZipException e) {
            throw new LayerscopeException(file + ": corrupt gzip header (" + e.getMessage()
                    + "); delete the file and download it again", e);
        }
    }

    private static String text(Path file, int line, String content) {
        JsonNode node;
        try {
            node = JSON.readTree(content);
        } catch (StreamConstraintsException e) {
            String what = e.getOriginalMessage().startsWith("String value length")
                    ? "holds a JSON string longer than " + MAX_STRING + " characters, the longest layerscope reads (a C4"
                            + " document is a few kB); split the text over several lines"
                    : "exceeds a limit of the JSON reader (" + e.getOriginalMessage() + "); " + EXPECTED;
            throw new LayerscopeException(file + ", line " + line + ": " + what);
        } catch (JsonProcessingException e) {
            throw new LayerscopeException(file + ", line " + line + ": not valid JSON (" + e.getOriginalMessage()
                    + "); " + EXPECTED);
        }
        if (!node.isObject()) {
            throw new LayerscopeException(file + ", line " + line + ": " + kind(node) + ", not a JSON object; "
                    + EXPECTED);
        }
        JsonNode text = node.get("text");
        if (text == null) {
            throw new LayerscopeException(file + ", line " + line + ": no \"text\" field; " + EXPECTED);
        }
        if (!text.isTextual()) {
            throw new LayerscopeException(file + ", line " + line + ": \"text\" is " + kind(text)
                    + ", not a string; " + EXPECTED);
        }
        return text.textValue();
    }

    private static LayerscopeException truncated(Path file, int completeLines) {
        return new LayerscopeException(file + ": unexpected end of gzip stream " + after(completeLines)
                + " (the file is truncated, e.g. by an interrupted download); delete it and download it again");
    }

    private static String after(int completeLines) {
        return completeLines == 0 ? "before the first complete line"
                : "after line " + completeLines + ", the last complete line";
    }

    private static String kind(JsonNode node) {
        return switch (node.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case STRING -> "a string";
            case NULL -> "null";
            default -> node.getNodeType().name().toLowerCase(Locale.ROOT);
        };
    }
}
