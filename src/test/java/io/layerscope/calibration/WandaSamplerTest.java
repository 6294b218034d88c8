package io.layerscope.calibration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.LayerscopeException;
import io.layerscope.fixtures.C4Fixtures;
import io.layerscope.fixtures.ReferencePython;
import io.layerscope.fixtures.TestRequirements;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WandaSamplerTest {
    /**
     * Wanda's get_c4 loop transcribed, run by CPython with its own random. {@code encode} and
     * {@code docs} are defined by the preamble; prints "doc start ids..." per sample, then
     * "drawn N" with the number of distinct documents the draws touched.
     */
    private static final String WANDA_LOOP = ""
            + "seed, nsamples, seqlen = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])\n"
            + "random.seed(seed)\n"
            + "drawn = set()\n"
            + "for _ in range(nsamples):\n"
            + "    while True:\n"
            + "        i = random.randint(0, len(docs) - 1)\n"
            + "        drawn.add(i)\n"
            + "        ids = encode(i)\n"
            + "        if len(ids) > seqlen:\n"
            + "            break\n"
            + "    j = random.randint(0, len(ids) - seqlen - 1)\n"
            + "    print(i, j, *ids[j:j + seqlen])\n"
            + "print('drawn', len(drawn))\n";

    /** Python reads the C4 shard itself and tokenizes like {@link ByteEncoder}: BOS 256, then the UTF-8 bytes. */
    private static final String FROM_SHARD = "import gzip, json, random, sys\n"
            + "docs = [json.loads(l)['text'] for l in gzip.open(sys.argv[1], 'rt', encoding='utf-8') if l.strip()]\n"
            + "def encode(i):\n"
            + "    return [256] + list(docs[i].encode('utf-8'))\n"
            + WANDA_LOOP;

    /** Python takes each document's ids from a file the test wrote (one line of ids per document). */
    private static final String FROM_IDS = "import random, sys\n"
            + "docs = [[int(t) for t in l.split()] for l in open(sys.argv[1])]\n"
            + "def encode(i):\n"
            + "    return docs[i]\n"
            + WANDA_LOOP;

    @TempDir
    Path dir;

    @Test
    void windowsEqualWandasLoopInPythonForSeveralSeeds() {
        // 1 to 40 words per document: about a third are longer than 120 byte tokens, so draws are
        // rejected and, with 60 samples, documents are drawn more than once
        List<String> texts = C4Fixtures.texts(80, 21, 1, 40);
        Path shard = C4Fixtures.writeShard(dir.resolve("c4-train.00000-of-01024.json.gz"), texts);
        try (Documents docs = Documents.open(shard)) {
            for (long seed : new long[] {0, 1, 42, (1L << 32) + 5}) {
                CountingEncoder encoder = new CountingEncoder(new ByteEncoder());
                List<CalibrationSample> samples = new WandaSampler(docs, encoder).sample(60, 120, seed);
                Reference python = Reference.run(FROM_SHARD, shard, seed, 60, 120);
                assertEquals(python.lines, describe(samples), "seed " + seed);
                assertEquals(python.drawn, encoder.calls, "each drawn document is tokenized once, seed " + seed);
                assertTrue(samples.stream().map(CalibrationSample::doc).distinct().count() < 60,
                        "the test must exercise repeated documents");
            }
        }
    }

    /**
     * An encoder that tokenizes in batches gets, with each document a draw meets, those the next draws
     * pick if they are rejected: the windows stay Python's, whether most draws are rejected (120
     * tokens) or most accepted (16), and no document is tokenized twice.
     */
    @Test
    void tokenizingTheNextDrawsAheadInBatchesKeepsPythonsWindows() {
        List<String> texts = new ArrayList<>(C4Fixtures.texts(80, 21, 1, 40));
        for (int i = 0; i < texts.size(); i++) {
            texts.set(i, texts.get(i) + " " + i);   // each text its own, so a second tokenization shows
        }
        Path shard = C4Fixtures.writeShard(dir.resolve("c4.json.gz"), texts);
        try (Documents docs = Documents.open(shard)) {
            for (int seqlen : new int[] {120, 16}) {
                for (long seed : new long[] {0, 42}) {
                    BatchingEncoder encoder = new BatchingEncoder(new ByteEncoder(), 5);
                    List<CalibrationSample> samples = new WandaSampler(docs, encoder).sample(60, seqlen, seed);
                    Reference python = Reference.run(FROM_SHARD, shard, seed, 60, seqlen);
                    assertEquals(python.lines, describe(samples), "seqlen " + seqlen + ", seed " + seed);
                    assertEquals(encoder.texts.size(), new HashSet<>(encoder.texts).size(), "no document twice");
                    assertTrue(encoder.texts.size() >= python.drawn, "every drawn document, and some ahead");
                    assertTrue(encoder.batches.stream().allMatch(b -> b >= 1 && b <= 5), encoder.batches.toString());
                    assertTrue(encoder.batches.stream().anyMatch(b -> b > 1), "batches were made");
                }
            }
        }
    }

    @Test
    void aSingleLongDocumentAmongManyShortOnes() {
        List<String> texts = new ArrayList<>(C4Fixtures.texts(200, 4, 1, 3));
        texts.set(137, C4Fixtures.text(100, 9));
        Path shard = C4Fixtures.writeShard(dir.resolve("c4.json.gz"), texts);
        try (Documents docs = Documents.open(shard)) {
            CountingEncoder encoder = new CountingEncoder(new ByteEncoder());
            List<CalibrationSample> samples = new WandaSampler(docs, encoder).sample(5, 64, 0);
            Reference python = Reference.run(FROM_SHARD, shard, 0, 5, 64);
            assertEquals(python.lines, describe(samples));
            assertEquals(python.drawn, encoder.calls);
            assertTrue(samples.stream().allMatch(s -> s.doc() == 137));
        }
    }

    @Test
    void windowsFromTheRealLlama3TokenizerEqualPythonsSampling() throws IOException {
        HuggingFaceTokenEncoder llama = HuggingFaceTokenEncoder.forPath(TestRequirements.llama3Tokenizer());
        List<String> texts = C4Fixtures.texts(40, 5, 20, 300);
        StringBuilder idsFile = new StringBuilder();
        for (String text : texts) {
            int[] ids = llama.encode(text);
            idsFile.append(IntStream.of(ids).mapToObj(Integer::toString).collect(Collectors.joining(" "))).append('\n');
        }
        Path ids = Files.writeString(dir.resolve("ids.txt"), idsFile.toString());
        try (Documents docs = Documents.of(texts)) {
            List<CalibrationSample> samples = new WandaSampler(docs, llama).sample(10, 128, 0);
            List<int[]> all = llama.encodeAll(texts);   // in parallel: each text's ids as one at a time
            for (int i = 0; i < texts.size(); i++) {
                assertArrayEquals(llama.encode(texts.get(i)), all.get(i), "text " + i);
            }
            Reference python = Reference.run(FROM_IDS, ids, 0, 10, 128);
            assertEquals(python.lines, describe(samples));
            assertTrue(samples.stream().allMatch(s -> s.length() == 128));
        }
    }

    @Test
    void reportsProgressAfterEverySample() {
        List<Integer> reported = new ArrayList<>();
        try (Documents docs = Documents.of(C4Fixtures.texts(30, 3, 30, 40))) {
            new WandaSampler(docs, new ByteEncoder()).sample(7, 16, 0, reported::add);
        }
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7), reported);
    }

    @Test
    void noDocumentLongEnoughFailsInsteadOfLoopingForever() {
        // lengths 1..12 words, each distinct, so the longest document is unique
        List<String> texts = new ArrayList<>();
        for (int words = 1; words <= 12; words++) {
            texts.add("w".repeat(3) + " abc".repeat(words - 1));
        }
        Collections.swap(texts, 11, 4); // longest (12 words: 3 + 4 * 11 = 47 bytes) is document 4
        CountingEncoder encoder = new CountingEncoder(new ByteEncoder());
        try (Documents docs = Documents.of(texts)) {
            WandaSampler sampler = new WandaSampler(docs, encoder);
            assertEquals("no calibration document is longer than seqlen=48 tokens (longest: 48 tokens in document 4); "
                    + "use a smaller --seqlen or more data",
                    assertThrows(LayerscopeException.class, () -> sampler.sample(3, 48, 0)).getMessage());
        }
        assertEquals(12, encoder.calls, "every document tokenized exactly once");
    }

    @Test
    void aDocumentOfExactlySeqlenTokensDoesNotQualify() {
        // BOS + 9 bytes = 10 tokens: Wanda needs len(ids) > seqlen, so seqlen 10 never qualifies, 9 does
        try (Documents docs = Documents.of(List.of("abcdefghi"))) {
            assertThrows(LayerscopeException.class, () -> new WandaSampler(docs, new ByteEncoder()).sample(1, 10, 0));
            CalibrationSample only = new WandaSampler(docs, new ByteEncoder()).sample(1, 9, 0).get(0);
            assertEquals(0, only.start()); // randint(0, 0)
            assertEquals(List.of(256, 97, 98, 99, 100, 101, 102, 103, 104), IntStream.of(only.tokens()).boxed().toList());
        }
    }

    @Test
    void badArguments() {
        try (Documents docs = Documents.of(List.of("text"))) {
            WandaSampler sampler = new WandaSampler(docs, new ByteEncoder());
            assertEquals("nsamples must be at least 1, got 0 (--nsamples: the number of calibration windows)",
                    assertThrows(IllegalArgumentException.class, () -> sampler.sample(0, 16, 0)).getMessage());
            assertEquals("seqlen must be at least 2, got 1 (--seqlen: the number of tokens per calibration window)",
                    assertThrows(IllegalArgumentException.class, () -> sampler.sample(4, 1, 0)).getMessage());
        }
        try (Documents empty = Documents.of(List.of())) {
            assertEquals("no calibration documents to sample from; use a C4 shard or another non-empty JSON-lines file",
                    assertThrows(LayerscopeException.class,
                            () -> new WandaSampler(empty, new ByteEncoder()).sample(1, 16, 0)).getMessage());
        }
    }

    @Test
    void samplesCompareByTokenValues() {
        CalibrationSample a = new CalibrationSample(0, 3, 5, new int[] {1, 2, 3});
        assertEquals(a, new CalibrationSample(0, 3, 5, new int[] {1, 2, 3}));
        assertEquals(a.hashCode(), new CalibrationSample(0, 3, 5, new int[] {1, 2, 3}).hashCode());
        assertTrue(!a.equals(new CalibrationSample(0, 3, 5, new int[] {1, 2, 4})));
    }

    /** "doc start ids..." per sample, as the Python transcription prints them. */
    private static List<String> describe(List<CalibrationSample> samples) {
        List<String> lines = new ArrayList<>();
        for (CalibrationSample s : samples) {
            lines.add(s.doc() + " " + s.start() + " "
                    + IntStream.of(s.tokens()).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
        }
        return lines;
    }

    /** A tokenizer Python can reproduce in one line: BOS 256, then one token per UTF-8 byte. */
    static final class ByteEncoder implements TokenEncoder {
        @Override
        public int[] encode(String text) {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            int[] ids = new int[bytes.length + 1];
            ids[0] = 256;
            for (int i = 0; i < bytes.length; i++) {
                ids[i + 1] = bytes[i] & 0xff;
            }
            return ids;
        }
    }

    /** Encodes with {@code inner}, {@code batch} texts at a time, recording every text and batch size. */
    static final class BatchingEncoder implements TokenEncoder {
        private final TokenEncoder inner;
        private final int batch;
        final List<String> texts = new ArrayList<>();
        final List<Integer> batches = new ArrayList<>();

        BatchingEncoder(TokenEncoder inner, int batch) {
            this.inner = inner;
            this.batch = batch;
        }

        @Override
        public int[] encode(String text) {
            throw new AssertionError("the sampler tokenizes in batches through encodeAll");
        }

        @Override
        public List<int[]> encodeAll(List<String> batchTexts) {
            texts.addAll(batchTexts);
            batches.add(batchTexts.size());
            return batchTexts.stream().map(inner::encode).toList();
        }

        @Override
        public int batchSize() {
            return batch;
        }
    }

    static final class CountingEncoder implements TokenEncoder {
        private final TokenEncoder inner;
        int calls;

        CountingEncoder(TokenEncoder inner) {
            this.inner = inner;
        }

        @Override
        public int[] encode(String text) {
            calls++;
            return inner.encode(text);
        }
    }

    /** Output of the Python transcription: one line per sample and the number of distinct documents drawn. */
    private record Reference(List<String> lines, int drawn) {
        static Reference run(String script, Path input, long seed, int nsamples, int seqlen) {
            List<String> lines = new ArrayList<>(ReferencePython.run(script, input.toString(), Long.toString(seed),
                    Integer.toString(nsamples), Integer.toString(seqlen)).lines().toList());
            String last = lines.remove(lines.size() - 1);
            assertTrue(last.startsWith("drawn "), last);
            return new Reference(lines, Integer.parseInt(last.substring(6)));
        }
    }
}
