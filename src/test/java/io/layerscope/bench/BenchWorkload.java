package io.layerscope.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.layerscope.FileTrees;
import io.layerscope.LayerscopeException;
import io.layerscope.calibration.CalibrationSample;
import io.layerscope.calibration.Documents;
import io.layerscope.calibration.HuggingFaceTokenEncoder;
import io.layerscope.calibration.WandaSampler;
import io.layerscope.model.DType;
import io.layerscope.model.DemoCorpus;
import io.layerscope.model.SyntheticLlama;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.zip.GZIPOutputStream;

/**
 * The benchmark's workload in one directory: a mid-size synthetic LLaMA with Llama 3's vocabulary
 * and tokenizer (bf16 weights), a C4-format calibration shard (the demo shard shipped in the jar:
 * real English prose) and the calibration windows Wanda's sampling draws from it, written as JSON
 * so the Python peer runs exactly the tokens the sweep runs.
 *
 * <pre>{@code
 * BenchWorkload w = new BenchWorkload(Path.of("results/bench/work"));
 * w.prepare(Path.of(".cache/llama3-tokenizer"), System.err);   // idempotent
 * List<int[]> windows = w.windows();                          // 16 x 256 token ids
 * }</pre>
 */
public record BenchWorkload(Path dir) {
    public static final int NSAMPLES = 16;
    public static final int SEQLEN = 256;
    public static final long SEED = 0;
    /** Llama 3's vocabulary, with the tokenizer's BOS/EOS ids. */
    public static final int VOCAB = 128256;
    private static final String[] TOKENIZER_FILES = {"tokenizer.json", "tokenizer_config.json"};

    /** hidden 512, 8 layers, 8 heads, 2 KV heads, intermediate 1408, Llama 3 vocab, bf16, tied embeddings. */
    public static SyntheticLlama midSizeModel() {
        return SyntheticLlama.builder().hidden(512).intermediate(1408).layers(8).heads(8).kvHeads(2).vocab(VOCAB)
                .dtype(DType.BF16).specialTokenIds(128000, 128001).normSpread(0.5).outlierFeatures(7, 300);
    }

    /**
     * Llama-3.2-1B's exact shape (hidden 2048, 16 blocks, 32 heads over 8 KV heads of 64, intermediate
     * 8192, Llama 3 vocabulary, tied embeddings, llama3 rope scaling) with random bf16 weights: 2.47 GB
     * in 8 shards. Never committed; jobs/bench writes it with BENCH_1B=1.
     */
    public static SyntheticLlama llama1bShapedModel() {
        return SyntheticLlama.builder().hidden(2048).intermediate(8192).layers(16).heads(32).kvHeads(8).headDim(64)
                .vocab(VOCAB).maxPositions(131072).llama3Scaling(true).tied(true).dtype(DType.BF16)
                .specialTokenIds(128000, 128001).normSpread(0.5).outlierFeatures(7, 300).shards(8);
    }

    /** {@code count} windows of {@code tokens} ids drawn uniformly from Llama 3's vocabulary (seed 1): the benchmarks' forward input. */
    public static List<int[]> randomWindows(int count, int tokens) {
        SplittableRandom rnd = new SplittableRandom(1);
        return IntStream.range(0, count).mapToObj(i -> rnd.ints(tokens, 0, VOCAB).toArray()).toList();
    }

    public Path llama1bDir() {
        return dir.resolve("model-1b");
    }

    /** Writes the Llama-3.2-1B-shaped model (with the tokenizer files) unless it is there. */
    public void prepareLlama1b(Path tokenizerDir, PrintStream err) {
        try {
            Files.createDirectories(dir);
            if (Files.isRegularFile(llama1bDir().resolve("config.json"))) {
                return;
            }
            err.println("bench: writing the Llama-3.2-1B-shaped model (random bf16 weights) into " + llama1bDir());
            Path tmp = Files.createTempDirectory(dir, ".model-1b");
            try {
                llama1bShapedModel().write(tmp);
                for (String f : TOKENIZER_FILES) {
                    Files.copy(tokenizerDir.resolve(f), tmp.resolve(f));
                }
                Files.move(tmp, llama1bDir(), StandardCopyOption.ATOMIC_MOVE);
            } finally {
                FileTrees.deleteRecursively(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path modelDir() {
        return dir.resolve("model");
    }

    public Path calibrationShard() {
        return dir.resolve("c4").resolve(DemoCorpus.FILE_NAME);
    }

    /** A synthetic shard of C4 shard 0's size (bench prepare --c4-sized). */
    public Path c4SizedShard() {
        return dir.resolve("c4-sized").resolve("c4-train.00000-of-01024.json.gz");
    }

    /** C4 shard 0's document count. */
    static final int C4_DOCUMENTS = 356_317;

    /**
     * Writes {@link #c4SizedShard} unless present: {@link #C4_DOCUMENTS} documents of the demo corpus's
     * words in a seeded order, lognormal lengths (median about 270 words, a long tail as C4's), about
     * 0.9 GB of JSON lines, gzip at its default level. What reading a real shard costs the driver,
     * without a download; the words make no sense, so tokens per character are only roughly C4's.
     */
    public void prepareC4Sized(PrintStream err) {
        Path shard = c4SizedShard();
        if (Files.isRegularFile(shard)) {
            return;
        }
        err.println("bench: writing a synthetic shard of C4's size (" + C4_DOCUMENTS + " documents) into " + shard);
        List<String> words = new ArrayList<>();
        for (String text : DemoCorpus.texts()) {
            words.addAll(List.of(text.split("\\s+")));
        }
        Random random = new Random(1);
        try {
            Files.createDirectories(shard.getParent());
            Path tmp = Files.createTempFile(shard.getParent(), ".shard", ".tmp");
            JsonFactory json = new JsonFactory();
            try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(tmp), 1 << 16);
                    JsonGenerator g = json.createGenerator(out)) {
                g.setRootValueSeparator(new SerializedString("\n"));
                StringBuilder text = new StringBuilder();
                for (int i = 0; i < C4_DOCUMENTS; i++) {
                    int n = (int) Math.max(10, Math.exp(5.6 + 0.9 * random.nextGaussian()));
                    int start = random.nextInt(words.size());
                    text.setLength(0);
                    for (int k = 0; k < n; k++) {
                        if (k > 0) {
                            text.append(' ');
                        }
                        text.append(words.get((start + k) % words.size()));
                    }
                    g.writeStartObject();
                    g.writeStringField("text", text.toString());
                    g.writeStringField("timestamp", "2019-04-25T12:57:54Z");
                    g.writeStringField("url", "https://example.com/" + i);
                    g.writeEndObject();
                }
                g.writeRaw('\n');
            }
            Files.move(tmp, shard, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path windowsFile() {
        return dir.resolve("windows.json");
    }

    /**
     * Writes whatever is missing: the model (with the tokenizer files from {@code tokenizerDir}),
     * the calibration shard, the windows. Each piece is written beside its place and renamed, so
     * an interrupted run leaves nothing half-written that a later run would trust.
     */
    public void prepare(Path tokenizerDir, PrintStream err) {
        try {
            Files.createDirectories(dir);
            if (!Files.isRegularFile(modelDir().resolve("config.json"))) {
                prepareModel(tokenizerDir, err);
            }
            if (!Files.isRegularFile(calibrationShard())) {
                Files.createDirectories(calibrationShard().getParent());
                Path tmp = Files.createTempFile(calibrationShard().getParent(), ".shard", ".tmp");
                try (InputStream in = DemoCorpus.open()) {
                    Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                }
                Files.move(tmp, calibrationShard(), StandardCopyOption.ATOMIC_MOVE);
            }
            if (!Files.isRegularFile(windowsFile())) {
                writeWindows(err);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void prepareModel(Path tokenizerDir, PrintStream err) throws IOException {
        for (String f : TOKENIZER_FILES) {
            if (!Files.isRegularFile(tokenizerDir.resolve(f))) {
                throw new LayerscopeException(tokenizerDir.resolve(f) + " is missing: the benchmark model uses the real"
                        + " Llama 3 tokenizer; run scripts/fetch-llama3-tokenizer.sh first");
            }
        }
        err.println("bench: writing the mid-size synthetic model into " + modelDir());
        Path tmp = Files.createTempDirectory(dir, ".model");
        try {
            midSizeModel().write(tmp);
            for (String f : TOKENIZER_FILES) {
                Files.copy(tokenizerDir.resolve(f), tmp.resolve(f));
            }
            Files.move(tmp, modelDir(), StandardCopyOption.ATOMIC_MOVE);
        } finally {
            FileTrees.deleteRecursively(tmp);
        }
    }

    private void writeWindows(PrintStream err) throws IOException {
        err.println("bench: sampling " + NSAMPLES + " x " + SEQLEN + " token windows (Wanda's get_c4, seed " + SEED + ")");
        List<CalibrationSample> samples;
        try (Documents docs = Documents.open(calibrationShard())) {
            samples = new WandaSampler(docs, HuggingFaceTokenEncoder.forPath(modelDir())).sample(NSAMPLES, SEQLEN, SEED);
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("calibration", calibrationShard().getFileName().toString());
        root.put("nsamples", NSAMPLES);
        root.put("seqlen", SEQLEN);
        root.put("seed", SEED);
        ArrayNode windows = root.putArray("windows");
        for (CalibrationSample s : samples) {
            ArrayNode w = windows.addArray();
            for (int id : s.tokens()) {
                w.add(id);
            }
        }
        Path tmp = Files.createTempFile(dir, ".windows", ".tmp");
        json.writeValue(tmp.toFile(), root);
        Files.move(tmp, windowsFile(), StandardCopyOption.ATOMIC_MOVE);
    }

    /** The windows {@link #prepare} wrote. */
    public List<int[]> windows() {
        try {
            JsonNode root = new ObjectMapper().readTree(windowsFile().toFile());
            List<int[]> out = new ArrayList<>();
            for (JsonNode w : root.get("windows")) {
                int[] ids = new int[w.size()];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = w.get(i).asInt();
                }
                out.add(ids);
            }
            return out;
        } catch (IOException e) {
            throw new LayerscopeException("cannot read the benchmark windows " + windowsFile() + ": " + e.getMessage()
                    + "; run `bench prepare` first", e);
        }
    }
}
