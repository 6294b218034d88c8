package io.layerscope.calibration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.fixtures.FileTimes;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cache of sampled windows: its key, its entries read back to the token, damaged entries, its bound. */
class RememberedWindowsTest {
    private static final String TOKENIZER = "a".repeat(64);
    private static final String BUILD = "0.1.0 built 2026-12-06T00:00:00Z";
    private static final List<CalibrationSample> WINDOWS = List.of(
            new CalibrationSample(0, 17, 3, new int[] {128000, 5, 70000, 9}),
            new CalibrationSample(1, 2, 0, new int[] {1, 2, 3, 4}),
            new CalibrationSample(2, 17, 40, new int[] {0, 128255, 7, 7}));

    @TempDir
    Path tmp;
    private Path dir;
    private Path shard;
    private final ByteArrayOutputStream said = new ByteArrayOutputStream();
    private final PrintStream err = new PrintStream(said, true, StandardCharsets.UTF_8);

    @BeforeEach
    void shard() throws IOException {
        dir = tmp.resolve("windows");
        shard = Files.writeString(tmp.resolve("c4.jsonl"), "{\"text\":\"one\"}\n{\"text\":\"two\"}\n");
    }

    private String key(List<Path> files, String tokenizer, int nsamples, int seqlen, long seed, String build)
            throws IOException {
        return RememberedWindows.key(files, tokenizer, nsamples, seqlen, seed, build);
    }

    private String key() throws IOException {
        return key(List.of(shard), TOKENIZER, 3, 4, 0, BUILD);
    }

    @Test
    void storedWindowsReadBackToTheToken() throws IOException {
        RememberedWindows cache = RememberedWindows.in(dir);
        String key = key();
        assertEquals(Optional.empty(), cache.find(key, 3, 4, err), "nothing stored yet");
        Instant before = Instant.now();
        assertEquals(Optional.of(cache.file(key)), cache.store(key, "run-a", 12.5, 356317, WINDOWS, err));
        RememberedWindows.Entry e = cache.find(key, 3, 4, err).orElseThrow();
        assertEquals(WINDOWS, e.samples());   // sample, document, start and every token id
        assertEquals(356317, e.documents());
        assertEquals("run-a", e.runId());
        assertEquals(12.5, e.seconds());
        assertEquals(cache.file(key), e.file());
        assertFalse(Instant.parse(e.createdAt()).isBefore(before.minusSeconds(1)), e.createdAt());
        assertEquals("", said.toString(StandardCharsets.UTF_8));
        assertEquals(List.of(cache.file(key)), files(dir), "the entry and nothing else");
        assertTrue(cache.file(key).getFileName().toString().matches("windows-[0-9a-f]{64}\\.bin"));
    }

    /** The layout read by hand: magic, key, provenance, counts, windows as big-endian ints, SHA-256 of the rest. */
    @Test
    void theEntryHoldsTheWindowsAsBigEndianIntsAndEndsWithTheSha256OfTheRest() throws Exception {
        RememberedWindows cache = RememberedWindows.in(dir);
        String key = key();
        cache.store(key, "run-a", 1.0, 20, WINDOWS, err);
        byte[] bytes = Files.readAllBytes(cache.file(key));
        byte[] body = Arrays.copyOf(bytes, bytes.length - 32);
        assertArrayEquals(sha256(body), Arrays.copyOfRange(bytes, body.length, bytes.length));
        DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(body));
        assertEquals("layerscope windows 1\n", new String(in.readNBytes(21), StandardCharsets.US_ASCII));
        assertEquals(key, in.readUTF());
        in.readUTF();   // when
        assertEquals("run-a", in.readUTF());
        assertEquals(1.0, in.readDouble());
        assertEquals(List.of(20, 3, 4), List.of(in.readInt(), in.readInt(), in.readInt()));
        assertEquals(List.of(0, 17, 3, 128000, 5, 70000, 9), ints(in, 7));
        assertEquals(List.of(1, 2, 0, 1, 2, 3, 4), ints(in, 7));
        assertEquals(List.of(2, 17, 40, 0, 128255, 7, 7), ints(in, 7));
        assertEquals(0, in.available());
        // 0x0001F400 = 128000, written high byte first
        assertTrue(contains(bytes, new byte[] {0, 1, (byte) 0xf4, 0, 0, 0, 0, 5}), "128000 then 5 as big-endian ints");
    }

    @Test
    void theKeyCoversEverythingThatDecidesTheWindows() throws IOException {
        String base = key();
        assertEquals(base, key(), "the same inputs, the same key");
        assertTrue(base.matches("[0-9a-f]{64}"), base);
        assertNotEquals(base, key(List.of(shard), "b".repeat(64), 3, 4, 0, BUILD), "another tokenizer");
        assertNotEquals(base, key(List.of(shard), TOKENIZER, 4, 4, 0, BUILD), "--nsamples");
        assertNotEquals(base, key(List.of(shard), TOKENIZER, 3, 5, 0, BUILD), "--seqlen");
        assertNotEquals(base, key(List.of(shard), TOKENIZER, 3, 4, 1, BUILD), "--seed");
        assertNotEquals(base, key(List.of(shard), TOKENIZER, 3, 4, 0, BUILD + "x"), "another build of the sampler");
        Path other = Files.writeString(tmp.resolve("more.jsonl"), "{\"text\":\"three\"}\n");
        String two = key(List.of(shard, other), TOKENIZER, 3, 4, 0, BUILD);
        assertNotEquals(base, two, "another file");
        assertNotEquals(two, key(List.of(other, shard), TOKENIZER, 3, 4, 0, BUILD), "the files' order");
        // a directory stands for its files: one added to it changes the documents
        Path folder = Files.createDirectories(tmp.resolve("shards"));
        Files.copy(shard, folder.resolve("c4-0.json"));
        String folderKey = key(List.of(folder), TOKENIZER, 3, 4, 0, BUILD);
        Files.copy(other, folder.resolve("c4-1.json"));
        assertNotEquals(folderKey, key(List.of(folder), TOKENIZER, 3, 4, 0, BUILD), "a file added to the directory");
        // rewritten with the same bytes and its modification time put back: the status-change time moved
        FileTime mtime = Files.getLastModifiedTime(shard);
        FileTimes.awaitANewStatusChangeTime(shard);
        Files.writeString(shard, Files.readString(shard));
        Files.setLastModifiedTime(shard, mtime);
        assertNotEquals(base, key(), "a rewrite that keeps size and mtime");
    }

    @Test
    void damagedEntriesAreReportedAndTheWindowsSampledAgain() throws IOException {
        RememberedWindows cache = RememberedWindows.in(dir);
        String key = key();
        cache.store(key, "run-a", 1.0, 20, WINDOWS, err);
        Path f = cache.file(key);
        byte[] good = Files.readAllBytes(f);

        byte[] flipped = good.clone();
        flipped[good.length / 2] ^= 1;
        Files.write(f, flipped);
        assertUnusable(cache, key, 3, 4, "its checksum does not match its content");

        Files.write(f, Arrays.copyOf(good, good.length - 9));
        assertUnusable(cache, key, 3, 4, "its checksum does not match its content");

        Files.write(f, Arrays.copyOf(good, 10));
        assertUnusable(cache, key, 3, 4, "not a layerscope windows entry of this version");

        byte[] foreign = good.clone();
        foreign[19] = '2';   // "layerscope windows 2"
        Files.write(f, foreign);
        assertUnusable(cache, key, 3, 4, "not a layerscope windows entry of this version");

        Files.write(f, good);
        String otherKey = key(List.of(shard), TOKENIZER, 3, 4, 9, BUILD);
        Files.copy(f, cache.file(otherKey));
        assertUnusable(cache, otherKey, 3, 4, "it was stored under another key");
        assertUnusable(cache, key, 5, 4, "it holds 3 windows of 4 tokens, not 5 of 4");

        // whole and checksummed, but not windows sampling could have made
        cache.store(key, "run-a", 1.0, 10, WINDOWS, err);
        assertUnusable(cache, key, 3, 4, "window 0 is numbered 0, from document 17 of 10 at token 3");
        cache.store(key, "run-a", 1.0, 20, List.of(WINDOWS.get(1), WINDOWS.get(0), WINDOWS.get(2)), err);
        assertUnusable(cache, key, 3, 4, "window 0 is numbered 1, from document 2 of 20 at token 0");
        cache.store(key, "run-a", 1.0, 20, List.of(WINDOWS.get(0), new CalibrationSample(1, 2, 0, new int[] {1, -2, 3, 4}),
                WINDOWS.get(2)), err);
        assertUnusable(cache, key, 3, 4, "window 1 holds the negative token id -2");
        cache.store(key, "run-a", 1.0, 20, WINDOWS.subList(0, 2), err);
        assertUnusable(cache, key, 3, 4, "it holds 2 windows of 4 tokens, not 3 of 4");

        // a file no entry of these windows could be: refused before it is read
        Files.write(f, new byte[3 * (12 + 4 * 4) + 4097]);
        assertUnusable(cache, key, 3, 4, "it takes 4181 bytes, more than 3 windows of 4 tokens can");
    }

    private void assertUnusable(RememberedWindows cache, String key, int nsamples, int seqlen, String why) {
        said.reset();
        assertEquals(Optional.empty(), cache.find(key, nsamples, seqlen, err));
        assertEquals("calibration: the remembered windows " + cache.file(key) + " cannot be used (" + why
                + "); sampling them again\n", said.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aFailedStoreIsReportedAndLeavesNothing() throws IOException {
        Path notADirectory = Files.writeString(tmp.resolve("file"), "x");
        RememberedWindows cache = RememberedWindows.in(notADirectory.resolve("windows"));
        assertEquals(Optional.empty(), cache.store(key(), "run-a", 1.0, 20, WINDOWS, err));
        String text = said.toString(StandardCharsets.UTF_8);
        assertTrue(text.startsWith("calibration: cannot remember the windows in " + notADirectory.resolve("windows") + " ("),
                text);
        assertTrue(text.endsWith("); the next run samples them again\n"), text);
        assertEquals(List.of(tmp.resolve("c4.jsonl"), notADirectory), files(tmp));
    }

    @Test
    void trimRemovesTheLeastRecentlyUsedEntriesBeyondTheBoundButNeverTheRunsOwn() throws IOException {
        RememberedWindows probe = RememberedWindows.in(tmp.resolve("probe"));
        probe.store(key(), "run", 1.0, 20, WINDOWS, err);
        long entryBytes = Files.size(probe.file(key()));
        // room for two entries, not three (an entry's time of writing may be a few characters longer)
        RememberedWindows cache = new RememberedWindows(dir, 2 * entryBytes + 16);
        String[] keys = new String[4];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = key(List.of(shard), TOKENIZER, 3, 4, i, BUILD);
            cache.store(keys[i], "run", 1.0, 20, WINDOWS, err);
            Files.setLastModifiedTime(cache.file(keys[i]), FileTime.from(Instant.parse("2026-01-0" + (i + 1) + "T00:00:00Z")));
        }
        Path foreign = Files.writeString(dir.resolve("notes.txt"), "mine");
        Path oldTemporary = Files.writeString(dir.resolve(".windows-x.bin.0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0.tmp"), "");
        Files.setLastModifiedTime(oldTemporary, FileTime.from(Instant.now().minus(io.layerscope.WholeFiles.ABANDONED).minusSeconds(60)));
        Path newTemporary = Files.writeString(dir.resolve(".windows-y.bin.11111111-2222-3333-4444-555555555555.tmp"), "");
        // a read marks an entry used: keys[1] becomes the most recent
        cache.find(keys[1], 3, 4, err);

        assertEquals(2, cache.trim(keys[0]));   // the oldest is the run's own: kept, with keys[1]; 2 and 3 go
        assertEquals(Stream.of(cache.file(keys[0]), cache.file(keys[1]), foreign, newTemporary).sorted().toList(),
                files(dir));
        assertEquals(0, cache.trim(keys[0]));
        assertEquals(0, RememberedWindows.in(tmp.resolve("absent")).trim(keys[0]), "no directory yet");
    }

    private static List<Path> files(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.sorted().toList();
        }
    }

    private static List<Integer> ints(DataInputStream in, int n) throws IOException {
        Integer[] v = new Integer[n];
        for (int i = 0; i < n; i++) {
            v[i] = in.readInt();
        }
        return List.of(v);
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    private static byte[] sha256(byte[] b) throws NoSuchAlgorithmException {
        return MessageDigest.getInstance("SHA-256").digest(b);
    }
}
