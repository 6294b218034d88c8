package io.layerscope.calibration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerscope.LayerscopeException;
import io.layerscope.fixtures.C4Fixtures;
import io.layerscope.fixtures.ReferencePython;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DocumentsTest {
    private static final String EXPECTED_LINE = "every line must be one JSON object with a \"text\" string, as in C4";

    @TempDir
    Path dir;

    @Test
    void readsAC4ShardInFileOrder() {
        List<String> texts = C4Fixtures.texts(300, 7);
        Path shard = C4Fixtures.writeShard(dir.resolve("c4-train.00000-of-01024.json.gz"), texts);
        try (Documents docs = Documents.open(shard)) {
            assertEquals(texts, all(docs));
        }
    }

    @Test
    void textsEqualWhatPythonReadsFromTheShard() throws Exception {
        Path shard = C4Fixtures.writeShard(dir.resolve("c4.json.gz"), C4Fixtures.texts(120, 11, 1, 400));
        String expected = ReferencePython.run("import gzip, json, sys, hashlib\n"
                + "texts = [json.loads(l)['text'] for l in gzip.open(sys.argv[1], 'rt', encoding='utf-8') if l.strip()]\n"
                + "print(len(texts), hashlib.sha256('\\0'.join(texts).encode('utf-8')).hexdigest())\n",
                shard.toString()).trim();
        try (Documents docs = Documents.open(shard)) {
            assertEquals(expected, docs.size() + " " + sha256(String.join("\0", all(docs))));
        }
    }

    /**
     * gzip files as Python writes them, not Java's one flagless member: gzip.open's (FNAME set), two
     * gzip.compress members with zero padding between and after (a line cut in two by the member
     * boundary), and a header with FEXTRA, FNAME, FCOMMENT and FHCRC made by hand after RFC 1952.
     * Each reads as Python's gzip reads it; a first member whose CRC-32 is off is refused after its
     * last whole line, as Python refuses it.
     */
    @Test
    void gzipFilesWrittenByPythonReadAsPythonReadsThem() throws Exception {
        Path plain = C4Fixtures.writeJsonLines(dir.resolve("plain.jsonl"), C4Fixtures.texts(200, 13, 1, 300));
        Path made = Files.createDirectories(dir.resolve("python"));
        String script = String.join("\n",
                "import gzip, hashlib, json, struct, sys, zlib",
                "data = open(sys.argv[1], 'rb').read()",
                "out = sys.argv[2]",
                "half = len(data) // 2",
                "assert data[half - 1] != 10",   // the boundary cuts a line
                "with gzip.open(out + '/fname.json.gz', 'wb') as f:",
                "    f.write(data)",
                "a, b = gzip.compress(data[:half]), gzip.compress(data[half:])",
                "open(out + '/members.json.gz', 'wb').write(a + bytes(3) + b + bytes(5))",
                "head = b'\\x1f\\x8b\\x08' + bytes([2 | 4 | 8 | 16]) + struct.pack('<I', 1700000000) + b'\\x02\\xff'",
                "head += struct.pack('<H', 6) + b'AB' + struct.pack('<H', 2) + b'xy'",   // one extra subfield
                "head += b'c4.json\\x00a comment\\x00'",
                "head += struct.pack('<H', zlib.crc32(head) & 0xffff)",
                "z = zlib.compressobj(9, zlib.DEFLATED, -15)",
                "body = z.compress(data) + z.flush()",
                "open(out + '/flags.json.gz', 'wb').write(head + body + struct.pack('<II', zlib.crc32(data), len(data)))",
                "bad = bytearray(a)",
                "bad[-8] ^= 1",   // the low byte of the first member's CRC-32
                "open(out + '/badcrc.json.gz', 'wb').write(bytes(bad) + b)",
                "print('fname-flags', open(out + '/fname.json.gz', 'rb').read()[3])",
                "for name in ['fname', 'members', 'flags']:",
                "    texts = [json.loads(l)['text'] for l in gzip.open(out + '/' + name + '.json.gz', 'rt',"
                        + " encoding='utf-8') if l.strip()]",
                "    print(name, len(texts), hashlib.sha256('\\0'.join(texts).encode('utf-8')).hexdigest())",
                "try:",
                "    gzip.open(out + '/badcrc.json.gz').read()",
                "    print('badcrc', 'read')",
                "except gzip.BadGzipFile:",
                "    print('badcrc', data[:half].count(b'\\n'))");
        Map<String, String> expected = new HashMap<>();
        for (String line : ReferencePython.run(script, plain.toString(), made.toString()).strip().split("\n")) {
            expected.put(line.substring(0, line.indexOf(' ')), line.substring(line.indexOf(' ') + 1));
        }
        assertEquals("8", expected.get("fname-flags"), "gzip.open sets FNAME alone");
        for (String name : List.of("fname", "members", "flags")) {
            try (Documents docs = Documents.open(made.resolve(name + ".json.gz"))) {
                assertEquals(expected.get(name), docs.size() + " " + sha256(String.join("\0", all(docs))), name);
            }
        }
        assertEquals("200", expected.get("members").split(" ")[0]);
        Path badCrc = made.resolve("badcrc.json.gz");
        long lines = Long.parseLong(expected.get("badcrc"));   // "read" would mean Python accepted it: fails here
        assertEquals(badCrc + ": corrupt gzip data after line " + lines + ", the last complete line (Corrupt GZIP trailer"
                + " (CRC-32 or length mismatch)); delete the file and download it again", failure(badCrc));
    }

    @Test
    void readsPlainJsonLinesAndGzipDataUnderAnyName() {
        List<String> texts = C4Fixtures.texts(20, 3);
        Path jsonl = C4Fixtures.writeJsonLines(dir.resolve("docs.jsonl"), texts);
        Path json = C4Fixtures.writeJsonLines(dir.resolve("docs.json"), texts);
        Path gzipData = C4Fixtures.writeShard(dir.resolve("compressed.jsonl"), texts);
        for (Path file : List.of(jsonl, json, gzipData)) {
            try (Documents docs = Documents.open(file)) {
                assertEquals(texts, all(docs), file.toString());
            }
        }
    }

    @Test
    void aDirectoryIsReadInNameOrderSkippingOtherFiles() throws IOException {
        List<String> a = C4Fixtures.texts(3, 1);
        List<String> b = C4Fixtures.texts(4, 2);
        List<String> c = C4Fixtures.texts(5, 3);
        C4Fixtures.writeShard(dir.resolve("c4-train.00001-of-01024.json.gz"), b);
        C4Fixtures.writeJsonLines(dir.resolve("c4-train.00002-of-01024.jsonl"), c);
        C4Fixtures.writeShard(dir.resolve("c4-train.00000-of-01024.json.gz"), a);
        Files.writeString(dir.resolve("README.txt"), "not documents");
        try (Documents docs = Documents.open(dir)) {
            assertEquals(concat(a, b, c), all(docs));
        }
    }

    @Test
    void aListOfFilesIsReadInTheOrderGiven() {
        List<String> a = C4Fixtures.texts(3, 1);
        List<String> b = C4Fixtures.texts(4, 2);
        Path fileA = C4Fixtures.writeShard(dir.resolve("a.json.gz"), a);
        Path fileB = C4Fixtures.writeShard(dir.resolve("b.json.gz"), b);
        try (Documents docs = Documents.open(List.of(fileB, fileA))) {
            assertEquals(concat(b, a), all(docs));
        }
    }

    @Test
    void blankLinesAreSkippedButCountedInLineNumbers() {
        List<String> texts = C4Fixtures.texts(6, 5);
        Path withBlanks = C4Fixtures.writeWithLine(dir.resolve("blank.json.gz"), texts, 2, "");
        try (Documents docs = Documents.open(withBlanks)) {
            assertEquals(texts, all(docs));
        }
        Path spaces = C4Fixtures.writeWithLine(dir.resolve("spaces.json.gz"), texts, 6, "  \t ");
        try (Documents docs = Documents.open(spaces)) {
            assertEquals(texts, all(docs));
        }
        // line 1 blank, line 2..3 documents, line 4 broken: the error names physical line 4
        List<String> lines = new ArrayList<>(List.of("", C4Fixtures.jsonLine("a", 0), C4Fixtures.jsonLine("b", 1), "{oops"));
        Path broken = writeLines(dir.resolve("broken.jsonl"), lines);
        assertEquals(broken + ", line 4: not valid JSON (Unexpected character ('o' (code 111)): was expecting double-quote"
                + " to start field name); " + EXPECTED_LINE, failure(broken));
    }

    @Test
    void closingDeletesTheSpillFile() throws IOException {
        Path spillDir = Files.createDirectories(dir.resolve("spill"));
        Path shard = C4Fixtures.writeShard(dir.resolve("c4.json.gz"), C4Fixtures.texts(10, 1));
        Documents docs = Documents.open(List.of(shard), spillDir);
        assertEquals(1, count(spillDir));
        docs.close();
        assertEquals(0, count(spillDir));
        assertEquals("documents were closed; spill file", assertThrows(IllegalStateException.class,
                () -> docs.text(0)).getMessage().substring(0, 33));
    }

    @Test
    void aFailedReadLeavesNoSpillFile() throws IOException {
        Path spillDir = Files.createDirectories(dir.resolve("spill"));
        Path bad = C4Fixtures.writeShardWithBadJsonLine(dir.resolve("bad.json.gz"), C4Fixtures.texts(10, 1), 5);
        assertThrows(LayerscopeException.class, () -> Documents.open(List.of(bad), spillDir));
        assertEquals(0, count(spillDir));
    }

    @Test
    void inMemoryDocumentsShareTheInterface() {
        try (Documents docs = Documents.of(List.of("first", "second"))) {
            assertEquals(2, docs.size());
            assertEquals("second", docs.text(1));
        }
    }

    @Test
    void indexOutOfRangeIsRefused() {
        Path shard = C4Fixtures.writeShard(dir.resolve("c4.json.gz"), C4Fixtures.texts(3, 1));
        try (Documents docs = Documents.open(shard)) {
            assertEquals("document 3 of 3", assertThrows(IndexOutOfBoundsException.class, () -> docs.text(3)).getMessage());
        }
    }

    // ---- errors, each with its exact message ----

    @Test
    void missingFile() {
        Path missing = dir.resolve("c4-train.00000-of-01024.json.gz");
        assertEquals(missing + ": no such calibration file or directory", failure(missing));
    }

    @Test
    void directoryWithoutDocumentFiles() throws IOException {
        Files.writeString(dir.resolve("notes.txt"), "x");
        assertEquals(dir + ": no calibration files in this directory (expected *.json.gz, *.jsonl.gz, *.json or "
                + "*.jsonl, e.g. C4's c4-train.00000-of-01024.json.gz)", failure(dir));
    }

    @Test
    void noFilesGiven() {
        assertEquals("no calibration files given; name a C4 shard (*.json.gz), a JSON-lines file or a directory of them",
                assertThrows(LayerscopeException.class, () -> Documents.open(List.of())).getMessage());
    }

    @Test
    void truncatedGzipNamesTheLastCompleteLine() {
        List<String> texts = C4Fixtures.texts(400, 9);
        int whole = C4Fixtures.shardBytes(texts).length;
        Path cut = C4Fixtures.writeTruncatedShard(dir.resolve("cut.json.gz"), texts, whole / 2);
        // independent count: the newlines zlib can decode from the bytes that are there
        long completeLines = ReferencePython.runLongs("import sys, zlib\n"
                + "data = open(sys.argv[1], 'rb').read()\n"
                + "print(zlib.decompressobj(31).decompress(data).count(b'\\n'))\n", cut.toString())[0];
        assertEquals(true, completeLines > 10 && completeLines < 390, "cut lands mid-file: " + completeLines);
        assertEquals(cut + ": unexpected end of gzip stream after line " + completeLines + ", the last complete line"
                + " (the file is truncated, e.g. by an interrupted download); delete it and download it again",
                failure(cut));
    }

    @Test
    void gzipWithoutItsTrailerIsTruncatedAfterTheLastLine() {
        List<String> texts = C4Fixtures.texts(30, 9);
        int whole = C4Fixtures.shardBytes(texts).length;
        Path cut = C4Fixtures.writeTruncatedShard(dir.resolve("cut.json.gz"), texts, whole - 8);
        assertEquals(cut + ": unexpected end of gzip stream after line 30, the last complete line"
                + " (the file is truncated, e.g. by an interrupted download); delete it and download it again",
                failure(cut));
    }

    @Test
    void gzipCutInsideItsHeaderOrEmpty() {
        List<String> texts = C4Fixtures.texts(30, 9);
        String tail = ": unexpected end of gzip stream before the first complete line"
                + " (the file is truncated, e.g. by an interrupted download); delete it and download it again";
        for (int keep : new int[] {0, 1, 5, 10}) {
            Path cut = C4Fixtures.writeTruncatedShard(dir.resolve("cut" + keep + ".json.gz"), texts, keep);
            assertEquals(cut + tail, failure(cut), "keep " + keep);
        }
    }

    @Test
    void gzipNameWithoutGzipData() {
        Path plain = C4Fixtures.writeNotGzip(dir.resolve("c4.json.gz"), C4Fixtures.texts(5, 1));
        assertEquals(plain + ": not a gzip file although its name ends in .gz (it does not start with the gzip "
                + "signature 1f 8b); download it again, or give an uncompressed JSON-lines file a .json or .jsonl name",
                failure(plain));
    }

    @Test
    void corruptGzipData() throws IOException {
        byte[] bytes = C4Fixtures.shardBytes(C4Fixtures.texts(50, 2));
        for (int i = 20; i < 40; i++) {
            bytes[i] = (byte) 0xff;
        }
        Path corrupt = Files.write(dir.resolve("corrupt.json.gz"), bytes);
        String message = failure(corrupt);
        assertEquals(corrupt + ": corrupt gzip data before the first complete line (",
                message.substring(0, message.indexOf('(') + 1));
        assertEquals("); delete the file and download it again", message.substring(message.lastIndexOf(')')));
    }

    @Test
    void malformedJsonLine() {
        Path bad = C4Fixtures.writeShardWithBadJsonLine(dir.resolve("bad.json.gz"), C4Fixtures.texts(10, 1), 7);
        assertEquals(bad + ", line 7: not valid JSON (Unexpected end-of-input: was expecting closing quote for a "
                + "string value); " + EXPECTED_LINE, failure(bad));
    }

    @Test
    void twoObjectsOnOneLine() {
        Path bad = C4Fixtures.writeWithLine(dir.resolve("two.json.gz"), C4Fixtures.texts(3, 1), 2,
                "{\"text\": \"a\"} {\"text\": \"b\"}");
        String message = failure(bad);
        assertEquals(bad + ", line 2: not valid JSON (Trailing token", message.substring(0, message.indexOf(" (of type")));
    }

    @Test
    void lineWithoutText() {
        Path bad = C4Fixtures.writeShardWithoutText(dir.resolve("notext.json.gz"), C4Fixtures.texts(10, 1), 3);
        assertEquals(bad + ", line 3: no \"text\" field; " + EXPECTED_LINE, failure(bad));
    }

    @Test
    void textThatIsNotAString() {
        Path number = C4Fixtures.writeWithLine(dir.resolve("number.json.gz"), C4Fixtures.texts(3, 1), 1, "{\"text\": 42}");
        assertEquals(number + ", line 1: \"text\" is a number, not a string; " + EXPECTED_LINE, failure(number));
        Path nul = C4Fixtures.writeWithLine(dir.resolve("null.json.gz"), C4Fixtures.texts(3, 1), 4, "{\"text\": null}");
        assertEquals(nul + ", line 4: \"text\" is null, not a string; " + EXPECTED_LINE, failure(nul));
    }

    @Test
    void lineThatIsNotAnObject() {
        Path array = C4Fixtures.writeWithLine(dir.resolve("array.json.gz"), C4Fixtures.texts(3, 1), 2, "[\"text\"]");
        assertEquals(array + ", line 2: an array, not a JSON object; " + EXPECTED_LINE, failure(array));
        Path string = C4Fixtures.writeWithLine(dir.resolve("string.json.gz"), C4Fixtures.texts(3, 1), 3, "\"text\"");
        assertEquals(string + ", line 3: a string, not a JSON object; " + EXPECTED_LINE, failure(string));
    }

    @Test
    void invalidUtf8() throws IOException {
        byte[] good = (C4Fixtures.jsonLine("fine", 0) + "\n").getBytes(StandardCharsets.UTF_8);
        byte[] bad = {'{', '"', 't', 'e', 'x', 't', '"', ':', '"', (byte) 0xc3, '"', '}', '\n'};
        byte[] all = new byte[good.length + bad.length];
        System.arraycopy(good, 0, all, 0, good.length);
        System.arraycopy(bad, 0, all, good.length, bad.length);
        Path file = Files.write(dir.resolve("latin.jsonl"), all);
        assertEquals(file + ", line 2: not valid UTF-8 text", failure(file));
    }

    /** Forms the lenient String constructor would turn into U+FFFD: an overlong '/', an encoded surrogate, past U+10FFFF. */
    @Test
    void invalidUtf8ThatDecodesToReplacementCharacters() throws IOException {
        byte[][] bad = {{(byte) 0xc0, (byte) 0xaf}, {(byte) 0xed, (byte) 0xa0, (byte) 0x80},
            {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0xff}};
        for (int i = 0; i < bad.length; i++) {
            byte[] head = "{\"text\":\"a".getBytes(StandardCharsets.US_ASCII);
            byte[] tail = "b\"}\n".getBytes(StandardCharsets.US_ASCII);
            byte[] line = new byte[head.length + bad[i].length + tail.length];
            System.arraycopy(head, 0, line, 0, head.length);
            System.arraycopy(bad[i], 0, line, head.length, bad[i].length);
            System.arraycopy(tail, 0, line, head.length + bad[i].length, tail.length);
            Path file = Files.write(dir.resolve("bad" + i + ".jsonl"), line);
            assertEquals(file + ", line 1: not valid UTF-8 text", failure(file));
        }
    }

    /** A text that really holds U+FFFD (as UTF-8 bytes ef bf bd, or escaped) is read as it is. */
    @Test
    void replacementCharacterInValidText() throws IOException {
        byte[] raw = {'{', '"', 't', 'e', 'x', 't', '"', ':', '"', 'a', (byte) 0xef, (byte) 0xbf, (byte) 0xbd, 'b', '"',
            '}', '\n'};
        byte[] escaped = "{\"text\":\"c\\ufffdd\"}\n".getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[raw.length + escaped.length];
        System.arraycopy(raw, 0, all, 0, raw.length);
        System.arraycopy(escaped, 0, all, raw.length, escaped.length);
        Path file = Files.write(dir.resolve("replacement.jsonl"), all);
        try (Documents docs = Documents.open(file)) {
            assertEquals(2, docs.size());
            assertEquals("a\uFFFDb", docs.text(0));
            assertEquals("c\uFFFDd", docs.text(1));
        }
    }

    @Test
    void emptyInput() throws IOException {
        Path blank = writeLines(dir.resolve("blank.jsonl"), List.of("", "   ", ""));
        Path empty = C4Fixtures.writeShard(dir.resolve("empty.json.gz"), List.of());
        assertEquals("no calibration documents in " + blank + ", " + empty + ": the input holds only blank lines; "
                + "use a C4 shard or another non-empty JSON-lines file",
                assertThrows(LayerscopeException.class, () -> Documents.open(List.of(blank, empty))).getMessage());
    }

    private static String failure(Path path) {
        return assertThrows(LayerscopeException.class, () -> Documents.open(path)).getMessage();
    }

    private static List<String> all(Documents docs) {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < docs.size(); i++) {
            texts.add(docs.text(i));
        }
        return texts;
    }

    @SafeVarargs
    private static List<String> concat(List<String>... lists) {
        List<String> all = new ArrayList<>();
        for (List<String> list : lists) {
            all.addAll(list);
        }
        return all;
    }

    private static Path writeLines(Path file, List<String> lines) {
        try {
            return Files.writeString(file, String.join("\n", lines) + "\n");
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static long count(Path directory) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.count();
        }
    }

    private static String sha256(String text) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    }
}
