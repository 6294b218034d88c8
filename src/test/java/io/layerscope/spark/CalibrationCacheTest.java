package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.LayerscopeException;
import io.layerscope.fixtures.FileTimes;
import io.layerscope.llama.ComputeDtype;
import io.layerscope.llama.TapSums;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.SyntheticLlama;
import io.layerscope.model.Tap;
import io.layerscope.stats.DepthSums;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.PrintStream;
import java.io.Serializable;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --calibration-cache: what the key covers, entries read back to the bit, and damaged or foreign files refused. */
class CalibrationCacheTest {
    /** The entry format's first line, written out here rather than taken from the class. */
    private static final byte[] MAGIC = "layerscope stage-one cache 1\n".getBytes(StandardCharsets.US_ASCII);
    /** What the caller says about an entry, for its JSON. */
    private static final Map<String, Object> ABOUT = Map.of("model", "tiny", "nsamples", 2);

    @TempDir
    static Path shared;
    static Path modelDir;
    static Checkpoint ckpt;

    @TempDir
    Path tmp;

    @BeforeAll
    static void tinyModel() {
        modelDir = SyntheticLlama.builder().hidden(32).intermediate(48).layers(2).heads(4).kvHeads(2).vocab(64)
                .shards(2).write(shared.resolve("m"));
        ckpt = Checkpoint.open(modelDir);
    }

    private static ModelSpec spec(ComputeDtype dtype, int lastBlock, List<String> taps, int batch, boolean depth,
                                  StatsDevice where) {
        return new ModelSpec(modelDir.toString(), dtype, lastBlock, taps, batch, depth, where);
    }

    private static ModelSpec spec() {
        return spec(ComputeDtype.FLOAT32, 1, List.of("0/attn_in", "1/attn_in"), 1, true, StatsDevice.AUTO);
    }

    private static List<int[]> windows() {
        return List.of(new int[] {1, 2, 3, 4}, new int[] {5, 6, 7, 8});
    }

    private static String key(Checkpoint c, ModelSpec spec, int shards, List<int[]> windows) {
        return CalibrationCache.key(c, spec, shards, windows, "1.0", "2.5.1 cpu");
    }

    @Test
    void theKeyChangesWithEachThingThatDecidesStageOnesBits() throws IOException {
        String base = key(ckpt, spec(), 2, windows());
        assertEquals(64, base.length());
        assertEquals(base, key(ckpt, spec(), 2, windows()), "the same inputs, the same key");
        // the directory's spelling is not the weights: a symlink to it keys alike
        Path link = Files.createSymbolicLink(shared.resolve("link"), modelDir);
        assertEquals(base, key(Checkpoint.open(link), new ModelSpec(link.toString(), ComputeDtype.FLOAT32, 1,
                List.of("0/attn_in", "1/attn_in"), 1, true, StatsDevice.AUTO), 2, windows()));

        List<String> keys = new ArrayList<>();
        keys.add(base);
        keys.add(key(ckpt, spec(), 3, windows()));
        keys.add(key(ckpt, spec(), 2, List.of(new int[] {1, 2, 3, 4}, new int[] {5, 6, 7, 9})));
        keys.add(key(ckpt, spec(), 2, List.of(new int[] {5, 6, 7, 8}, new int[] {1, 2, 3, 4})));
        keys.add(key(ckpt, spec(), 2, List.of(new int[] {1, 2, 3, 4})));
        keys.add(key(ckpt, spec(), 2, List.of(new int[] {1, 2, 3}, new int[] {4, 5, 6, 7, 8})));
        keys.add(key(ckpt, spec(ComputeDtype.FLOAT16, 1, List.of("0/attn_in", "1/attn_in"), 1, true, StatsDevice.AUTO), 2, windows()));
        keys.add(key(ckpt, spec(ComputeDtype.FLOAT32, 0, List.of("0/attn_in", "1/attn_in"), 1, true, StatsDevice.AUTO), 2, windows()));
        keys.add(key(ckpt, spec(ComputeDtype.FLOAT32, 1, List.of("0/attn_in"), 1, true, StatsDevice.AUTO), 2, windows()));
        keys.add(key(ckpt, spec(ComputeDtype.FLOAT32, 1, List.of("0/attn_in", "1/attn_in"), 2, true, StatsDevice.AUTO), 2, windows()));
        keys.add(key(ckpt, spec(ComputeDtype.FLOAT32, 1, List.of("0/attn_in", "1/attn_in"), 1, false, StatsDevice.AUTO), 2, windows()));
        keys.add(key(ckpt, spec(ComputeDtype.FLOAT32, 1, List.of("0/attn_in", "1/attn_in"), 1, true, StatsDevice.JAVA), 2, windows()));
        keys.add(CalibrationCache.key(ckpt, spec(), 2, windows(), "1.1", "2.5.1 cpu"));
        keys.add(CalibrationCache.key(ckpt, spec(), 2, windows(), "1.0", "2.5.1 cu124"));

        // a weight file touched, then rewritten in place with its size and mtime kept (as cp -p or tar x
        // leave it: here with the same bytes), then config.json changed
        Path weights = ckpt.files().get(1).path();
        FileTime was = Files.getLastModifiedTime(weights);
        long size = Files.size(weights);
        FileTimes.awaitANewStatusChangeTime(weights);
        Files.setLastModifiedTime(weights, FileTime.fromMillis(was.toMillis() + 1000));
        keys.add(key(Checkpoint.open(modelDir), spec(), 2, windows()));
        FileTimes.awaitANewStatusChangeTime(weights);
        Files.write(weights, Files.readAllBytes(weights));
        Files.setLastModifiedTime(weights, was);
        assertEquals(List.of(was, size), List.of(Files.getLastModifiedTime(weights), Files.size(weights)),
                "size and mtime as they were");
        keys.add(key(Checkpoint.open(modelDir), spec(), 2, windows()));
        Path config = modelDir.resolve("config.json");
        String json = Files.readString(config);
        Files.writeString(config, json + " ");
        keys.add(key(Checkpoint.open(modelDir), spec(), 2, windows()));
        Files.writeString(config, json);

        Set<String> distinct = new HashSet<>(keys);
        assertEquals(keys.size(), distinct.size(), "every change gives a key of its own: " + keys);
    }

    private static CalibrationStage.Result result() {
        Map<String, float[]> sums = new LinkedHashMap<>();
        sums.put("0/attn_in", new float[] {0f, -0f, Float.MIN_VALUE, 1.5f, 3.4e38f, 0.1f});
        sums.put("-1/final_norm", new float[] {7f, Float.intBitsToFloat(0x3f800001)});
        DepthSums depth = new DepthSums();
        depth.outlierBlocks(Tap.ATTN_IN, 0, new long[] {3, 0, 9});
        depth.outlierAnyBlock(Tap.MLP_ACT, new long[] {1, 2});
        depth.outlierTokens(512);
        return new CalibrationStage.Result(new TapSums(sums, 2, 8), new ArrayList<>(List.of("executor 1: cpu() float32")),
                new ArrayList<>(List.of("float32")), 12.5, 2, 0.25, depth);
    }

    private static byte[] serialized(Object o) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(b)) {
            out.writeObject(o);
        }
        return b.toByteArray();
    }

    @Test
    void anEntryReadsBackBitForBitAndLeavesNoOtherFile() throws IOException {
        CalibrationCache cache = CalibrationCache.open(tmp.resolve("cache"), 1L << 30);
        String key = key(ckpt, spec(), 2, windows());
        assertEquals(Optional.empty(), cache.find(key, silent()), "nothing stored yet");
        CalibrationStage.Result r = result();
        Optional<Path> file = cache.store(key, "run-1", r, ABOUT, silent());
        assertEquals(Optional.of(tmp.resolve("cache").resolve("stage1-" + key + ".bin")), file);
        Path json = tmp.resolve("cache").resolve("stage1-" + key + ".json");
        try (Stream<Path> files = Files.list(tmp.resolve("cache"))) {
            assertEquals(List.of(file.get(), json), files.sorted().toList(), "no temporary file left");
        }
        com.fasterxml.jackson.databind.JsonNode about = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.toFile());
        assertEquals("stage1-" + key + ".bin", about.get("entry").asText());
        assertEquals("run-1", about.get("runId").asText());
        assertEquals("tiny", about.get("model").asText());
        assertEquals(2, about.get("nsamples").asInt());

        CalibrationCache.Entry e = cache.find(key, silent()).orElseThrow();
        assertEquals(key, e.key());
        assertEquals("run-1", e.runId());
        assertTrue(e.createdAt().endsWith("Z"), e.createdAt());
        CalibrationStage.Result back = e.result();
        assertEquals(r.sums().keys(), back.sums().keys());
        for (String k : r.sums().keys()) {
            float[] want = r.sums().sumSq().get(k);
            float[] got = back.sums().sumSq().get(k);
            assertEquals(want.length, got.length);
            for (int i = 0; i < want.length; i++) {
                assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), k + "[" + i + "]");
            }
        }
        assertEquals(2, back.sums().nsamples());
        assertEquals(8, back.sums().ntokens());
        assertEquals(List.of("executor 1: cpu() float32"), back.devices());
        assertEquals(List.of("float32"), back.computeTypes());
        assertEquals(12.5, back.seconds());
        assertEquals(2, back.blocksLoaded());
        assertEquals(0.25, back.modelLoadSeconds());
        assertArrayEquals(serialized(r.depth()), serialized(back.depth()), "the depth statistics, as Spark would ship them");

        // stored again (a recomputation): replaced in place
        cache.store(key, "run-2", r, ABOUT, silent());
        assertEquals("run-2", cache.find(key, silent()).orElseThrow().runId());
    }

    @Test
    void aDamagedOrMisplacedEntryIsReportedAndLeftForStageOneToReplace() throws IOException {
        CalibrationCache cache = CalibrationCache.open(tmp, 1L << 30);
        String key = key(ckpt, spec(), 2, windows());
        Path f = cache.store(key, "run-1", result(), ABOUT, silent()).orElseThrow();
        byte[] whole = Files.readAllBytes(f);

        Files.write(f, java.util.Arrays.copyOf(whole, whole.length / 2));
        Said said = new Said();
        assertEquals(Optional.empty(), cache.find(key, said.out));
        assertTrue(said.text().startsWith("calibration cache: " + f + " cannot be used (unreadable: "), said.text());
        assertTrue(said.text().endsWith("); stage one runs instead\n"), said.text());

        Files.writeString(f, "PAR1 not an entry");
        said = new Said();
        assertEquals(Optional.empty(), cache.find(key, said.out));
        assertEquals("calibration cache: " + f + " cannot be used (not a layerscope stage-one cache entry of this"
                + " version); stage one runs instead\n", said.text());

        // an entry renamed to another key's file
        String other = key(ckpt, spec(), 3, windows());
        Files.write(cache.file(other), whole);
        said = new Said();
        assertEquals(Optional.empty(), cache.find(other, said.out));
        assertEquals("calibration cache: " + cache.file(other) + " cannot be used (it was stored under another key);"
                + " stage one runs instead\n", said.text());
    }

    @Test
    void aFileOfOtherClassesIsRefusedWithoutBuildingThem() throws IOException {
        CalibrationCache cache = CalibrationCache.open(tmp, 1L << 30);
        String key = key(ckpt, spec(), 2, windows());
        Path f = cache.file(key);
        // java.net classes are not what an entry holds; nor is a collection of them
        HashSet<URI> foreign = new HashSet<>(List.of(URI.create("http://127.0.0.1/x")));
        for (Object o : List.of(URI.create("http://127.0.0.1/x"), foreign)) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            b.write(MAGIC);
            b.write(serialized(o));
            Files.write(f, b.toByteArray());
            Said said = new Said();
            assertEquals(Optional.empty(), cache.find(key, said.out));
            assertEquals("calibration cache: " + f + " cannot be used (it holds a class an entry does not (filter status:"
                    + " REJECTED)); stage one runs instead\n", said.text());
        }
        // an allowed class that is not an entry
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(MAGIC);
        b.write(serialized(new ArrayList<>(List.of("a"))));
        Files.write(f, b.toByteArray());
        Said said = new Said();
        assertEquals(Optional.empty(), cache.find(key, said.out));
        assertEquals("calibration cache: " + f + " cannot be used (it holds something else); stage one runs instead\n",
                said.text());
    }

    /** {@link CalibrationCache.Entry}'s shape under another name, so that a test can write one without a result. */
    record ForgedEntry(String key, String createdAt, String runId, CalibrationStage.Result result) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** The stream of {@code o} with one class name replaced (a modified-UTF-8 string with its length before it). */
    private static byte[] renamed(Object o, String from, String to) throws IOException {
        byte[] bytes = serialized(o);
        byte[] a = ascii(from);
        byte[] b = ascii(to);
        for (int i = 0; i + a.length <= bytes.length; i++) {
            if (java.util.Arrays.equals(bytes, i, i + a.length, a, 0, a.length)) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                out.write(bytes, 0, i - 2);
                out.write(b.length >> 8);
                out.write(b.length & 0xff);
                out.write(b);
                out.write(bytes, i + a.length, bytes.length - i - a.length);
                return out.toByteArray();
            }
        }
        throw new AssertionError(from + " is not in the stream");
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void anEntryWithoutItsResultIsReportedNotMetLaterAsANull() throws IOException {
        CalibrationCache cache = CalibrationCache.open(tmp, 1L << 30);
        String key = key(ckpt, spec(), 2, windows());
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(MAGIC);
        b.write(renamed(new ForgedEntry(key, "2026-12-05T00:00:00Z", "run-1", null),
                ForgedEntry.class.getName(), CalibrationCache.Entry.class.getName()));
        Files.write(cache.file(key), b.toByteArray());
        Said said = new Said();
        assertEquals(Optional.empty(), cache.find(key, said.out));
        assertEquals("calibration cache: " + cache.file(key) + " cannot be used (unreadable: an entry without its key,"
                + " sums or devices); stage one runs instead\n", said.text());
        // the same bytes with a result are read: the forgery is only the missing part
        b = new ByteArrayOutputStream();
        b.write(MAGIC);
        b.write(renamed(new ForgedEntry(key, "2026-12-05T00:00:00Z", "run-1", result()),
                ForgedEntry.class.getName(), CalibrationCache.Entry.class.getName()));
        Files.write(cache.file(key), b.toByteArray());
        assertEquals("run-1", cache.find(key, silent()).orElseThrow().runId());
    }

    @Test
    void aStoreThatFailsIsReportedAndLeavesNothing() throws IOException {
        Path dir = tmp.resolve("cache");
        CalibrationCache cache = CalibrationCache.open(dir, 1L << 30);
        // a file where the directory would be made (after open): nothing can be created in it
        Files.writeString(dir, "x");
        Said said = new Said();
        assertEquals(Optional.empty(), cache.store(key(ckpt, spec(), 2, windows()), "run-1", result(), ABOUT, said.out));
        assertTrue(said.text().startsWith("calibration cache: cannot store stage one's result in " + dir + " ("),
                said.text());
        assertTrue(said.text().endsWith("); the run goes on without it\n"), said.text());
        assertEquals("x", Files.readString(dir));
    }

    /**
     * A directory that cannot be written (a shared cache mounted read-only; as root a read-only bind
     * mount, else its mode): its entries are read, nothing is stored or removed, and nothing said.
     */
    @Test
    void aCacheThatCannotBeWrittenIsReadOnly() throws Exception {
        Path dir = tmp.resolve("cache-read-only");
        CalibrationCache writable = CalibrationCache.open(dir, 1L << 30);
        String key = key(ckpt, spec(), 2, windows());
        assertEquals(Optional.of(writable.file(key)), writable.store(key, "run-1", result(), ABOUT, silent()));
        String other = fakeKey('b');
        boolean root = io.layerscope.fixtures.TestRequirements.isRoot();
        if (root) {
            org.junit.jupiter.api.Assumptions.assumeTrue(run("mount", "--bind", dir.toString(), dir.toString()), "mount --bind");
        }
        try {
            if (root) {
                org.junit.jupiter.api.Assumptions.assumeTrue(run("mount", "-o", "remount,bind,ro", dir.toString()), "remount ro");
            } else {
                Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("r-xr-xr-x"));
            }
            List<String> before = names(dir);
            CalibrationCache cache = CalibrationCache.open(dir, 1);   // 1 byte: a trim would remove the entry
            assertTrue(cache.readOnly());
            Said said = new Said();
            assertEquals("run-1", cache.find(key, said.out).orElseThrow().runId());
            assertEquals(Optional.empty(), cache.store(other, "run-2", result(), ABOUT, said.out));
            assertEquals(new io.layerscope.CacheEntries.Removed(0, 0), cache.trim(other, said.out));
            assertEquals("", said.text());
            assertEquals(before, names(dir));
        } finally {
            if (root) {
                run("umount", dir.toString());
            } else {
                Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            }
        }
        assertFalse(CalibrationCache.open(dir, 1L << 30).readOnly(), "writable again");
    }

    private static boolean run(String... command) throws Exception {
        return new ProcessBuilder(command).redirectErrorStream(true).start().waitFor() == 0;
    }

    /** The entry stored and its description not (a directory where the JSON goes): the entry is kept and said so. */
    @Test
    void anEntryWhoseDescriptionCannotBeWrittenIsKept() throws IOException {
        Path dir = tmp.resolve("cache-undescribed");
        CalibrationCache cache = CalibrationCache.open(dir, 1L << 30);
        String key = key(ckpt, spec(), 2, windows());
        Files.createDirectories(cache.description(key).resolve("occupied"));
        Said said = new Said();
        assertEquals(Optional.of(cache.file(key)), cache.store(key, "run-1", result(), ABOUT, said.out));
        assertTrue(said.text().startsWith("calibration cache: stored stage one's result in " + cache.file(key)
                + ", but not its description " + cache.description(key).getFileName() + " ("), said.text());
        assertTrue(cache.find(key, said.out).isPresent(), "the entry is read back");
    }

    @Test
    void openCreatesNothingAndRefusesWhatNoCacheCanBeMadeIn() throws IOException {
        Path dir = tmp.resolve("a").resolve("b");
        CalibrationCache cache = CalibrationCache.open(dir, 1L << 30);
        assertFalse(Files.exists(tmp.resolve("a")), "made by the first entry, not by open");
        ByteArrayOutputStream said = new ByteArrayOutputStream();
        assertEquals(new io.layerscope.CacheEntries.Removed(0, 0), cache.trim(fakeKey('a'), new PrintStream(said, true)));
        assertEquals("", said.toString(), "nothing stored yet: nothing to say");
        assertFalse(Files.exists(tmp.resolve("a")));

        Path file = Files.writeString(tmp.resolve("file"), "x");
        assertEquals("--calibration-cache " + file + " is not a directory; give a directory the cached stage-one"
                + " results can be kept in", assertThrows(LayerscopeException.class,
                        () -> CalibrationCache.open(file, 1L << 30)).getMessage());
        Path below = file.resolve("c").resolve("d");
        assertEquals("--calibration-cache " + below + " cannot be created (" + file + " exists and is not a directory)",
                assertThrows(LayerscopeException.class, () -> CalibrationCache.open(below, 1L << 30)).getMessage());
        Path dangling = Files.createSymbolicLink(tmp.resolve("dangling"), tmp.resolve("nowhere"));
        assertEquals("--calibration-cache " + dangling + " is not a directory; give a directory the cached stage-one"
                + " results can be kept in", assertThrows(LayerscopeException.class,
                        () -> CalibrationCache.open(dangling, 1L << 30)).getMessage());
        assertEquals("--calibration-cache " + dangling.resolve("c") + " cannot be created (" + dangling + " exists and is"
                + " not a directory)", assertThrows(LayerscopeException.class,
                        () -> CalibrationCache.open(dangling.resolve("c"), 1L << 30)).getMessage());
        assertEquals(List.of("dangling", "file"), names(tmp));
    }

    /** A key as the cache names entries (64 hex digits), made from one digit. */
    private static String fakeKey(char c) {
        return String.valueOf(c).repeat(64);
    }

    /** An entry of {@code entry} bytes and a description of {@code described}, last used {@code hoursAgo} hours ago. */
    private static void fakeEntry(Path dir, String key, int entry, int described, int hoursAgo) throws IOException {
        Path bin = Files.write(dir.resolve("stage1-" + key + ".bin"), new byte[entry]);
        Files.write(dir.resolve("stage1-" + key + ".json"), new byte[described]);
        Files.setLastModifiedTime(bin, FileTime.from(Instant.now().minus(Duration.ofHours(hoursAgo))));
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void trimRemovesTheLeastRecentlyUsedEntriesBeyondTheSizeButNeverTheRunsOwn() throws IOException {
        Path dir = tmp.resolve("cache");
        CalibrationCache cache = CalibrationCache.open(Files.createDirectories(dir), 250);
        String a = fakeKey('a');
        String b = fakeKey('b');
        String c = fakeKey('c');
        String d = fakeKey('d');
        fakeEntry(dir, a, 100, 20, 4);   // the run's own, the least recently used of all
        fakeEntry(dir, b, 100, 20, 3);
        fakeEntry(dir, c, 100, 20, 2);
        fakeEntry(dir, d, 100, 20, 1);
        Files.write(dir.resolve("notes.txt"), new byte[1000]);             // not the cache's: kept, not counted
        Files.write(dir.resolve("stage1-abc.bin"), new byte[1000]);        // not an entry's name either
        Path fresh = Files.write(dir.resolve(".stage1-" + d + ".bin.0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0.tmp"), new byte[10]);   // another run writing
        Path left = Files.write(dir.resolve(".stage1-" + c + ".bin.11111111-2222-3333-4444-555555555555.tmp"), new byte[10]);    // a killed run's
        Files.setLastModifiedTime(left, FileTime.from(Instant.now().minus(Duration.ofHours(25))));
        Files.write(dir.resolve("stage1-" + fakeKey('e') + ".json"), new byte[5]);                // its entry gone
        // a user's files in a directory they made the cache: names like the cache's, but not its own
        Path report = Files.write(dir.resolve(".report.tmp"), new byte[3]);
        Files.setLastModifiedTime(report, FileTime.from(Instant.now().minus(Duration.ofDays(3))));
        Files.write(dir.resolve("stage1-summary.json"), new byte[3]);

        Said said = new Said();
        assertEquals(new io.layerscope.CacheEntries.Removed(2, 240), cache.trim(a, said.out));
        // a (120) is kept whatever its age, d (240 in all) fits, c and b do not
        assertEquals("calibration cache: removed 2 least recently used entries (240 B) to keep " + dir + " within 250 B"
                + " (--calibration-cache-size)\n", said.text());
        assertEquals(List.of(".report.tmp", fresh.getFileName().toString(), "notes.txt", "stage1-" + a + ".bin",
                "stage1-" + a + ".json", "stage1-abc.bin", "stage1-" + d + ".bin", "stage1-" + d + ".json",
                "stage1-summary.json"), names(dir));

        said = new Said();
        assertEquals(new io.layerscope.CacheEntries.Removed(0, 0), cache.trim(a, said.out));
        assertEquals("", said.text(), "nothing to remove, nothing said");

        // the run's own entry alone larger than the cache: it stays, every other goes
        CalibrationCache small = CalibrationCache.open(dir, 50);
        said = new Said();
        assertEquals(new io.layerscope.CacheEntries.Removed(1, 120), small.trim(a, said.out));
        assertEquals("calibration cache: removed 1 least recently used entry (120 B) to keep " + dir + " within 50 B"
                + " (--calibration-cache-size)\n", said.text());
        assertTrue(Files.exists(dir.resolve("stage1-" + a + ".bin")));
        assertEquals(List.of(".report.tmp", fresh.getFileName().toString(), "notes.txt", "stage1-" + a + ".bin",
                "stage1-" + a + ".json", "stage1-abc.bin", "stage1-summary.json"), names(dir));
    }

    @Test
    void readingAnEntryMakesItTheMostRecentlyUsed() throws IOException {
        Path dir = tmp.resolve("cache");
        CalibrationCache cache = CalibrationCache.open(dir, 1L << 30);
        String key = key(ckpt, spec(), 2, windows());
        Path f = cache.store(key, "run-1", result(), ABOUT, silent()).orElseThrow();
        FileTime old = FileTime.from(Instant.now().minus(Duration.ofDays(30)));
        Files.setLastModifiedTime(f, old);
        Instant before = Instant.now().minusSeconds(1);
        assertEquals("run-1", cache.find(key, silent()).orElseThrow().runId());
        assertTrue(Files.getLastModifiedTime(f).toInstant().isAfter(before), Files.getLastModifiedTime(f).toString());
        // a damaged entry is not marked
        Files.write(f, MAGIC);
        Files.setLastModifiedTime(f, old);
        assertEquals(Optional.empty(), cache.find(key, silent()));
        assertEquals(old, Files.getLastModifiedTime(f));
    }

    private static PrintStream silent() {
        return new PrintStream(new ByteArrayOutputStream());
    }

    /** What was printed to a stream (also {@link CalibrationCacheIT}'s). */
    static final class Said {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

        String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }
}
