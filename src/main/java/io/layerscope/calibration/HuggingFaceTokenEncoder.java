package io.layerscope.calibration;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.layerscope.LayerscopeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@link TokenEncoder} backed by DJL's {@link HuggingFaceTokenizer} (the Rust {@code tokenizers}
 * library Python's fast tokenizers use) loaded from a model's {@code tokenizer.json}, offline.
 * Truncation is off (DJL's default silently cuts at 512 tokens), padding is off and special
 * tokens are added, so {@link #encode} equals Python's {@code tokenizer(text).input_ids}.
 *
 * <p>Creating a tokenizer takes up to seconds, so there is one instance per JVM and tokenizer file;
 * {@link #forPath} returns it. Instances are thread-safe and live as long as the JVM.
 *
 * <pre>{@code
 * HuggingFaceTokenEncoder llama = HuggingFaceTokenEncoder.forPath(Path.of("llm_weights/Llama-3.2-1B"));
 * int[] ids = llama.encode("Hello world");   // [128000, 9906, 1917]
 * }</pre>
 */
public final class HuggingFaceTokenEncoder implements TokenEncoder {
    private static final Map<Path, HuggingFaceTokenEncoder> INSTANCES = new ConcurrentHashMap<>();

    private final Path file;
    private final HuggingFaceTokenizer tokenizer;

    private HuggingFaceTokenEncoder(Path file, HuggingFaceTokenizer tokenizer) {
        this.file = file;
        this.tokenizer = tokenizer;
    }

    /**
     * The encoder for a {@code tokenizer.json} file, or for the {@code tokenizer.json} inside a
     * model directory; created on first use, then shared.
     */
    public static HuggingFaceTokenEncoder forPath(Path fileOrModelDirectory) {
        Path file = tokenizerFile(fileOrModelDirectory);
        return INSTANCES.computeIfAbsent(file, HuggingFaceTokenEncoder::load);
    }

    /** The {@code tokenizer.json} this encoder was loaded from (absolute, real path). */
    public Path file() {
        return file;
    }

    @Override
    public int[] encode(String text) {
        return ints(tokenizer.encode(text).getIds());
    }

    private static int[] ints(long[] ids) {
        int[] tokens = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            tokens[i] = Math.toIntExact(ids[i]);
        }
        return tokens;
    }

    /**
     * Tokenizes the texts on every core, a text per task. The Rust library's own batch encoding
     * ({@code batchEncode}) gained less: its results reach Java one after another.
     */
    @Override
    public List<int[]> encodeAll(List<String> texts) {
        return texts.parallelStream().map(this::encode).toList();
    }

    /** Four texts a core: documents differ in length, so one a core would leave cores waiting. */
    @Override
    public int batchSize() {
        int cores = Runtime.getRuntime().availableProcessors();
        return cores == 1 ? 1 : 4 * cores;
    }

    /** The text of {@code ids}, special tokens kept (for reports and checks). */
    public String decode(int[] ids) {
        long[] wide = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            wide[i] = ids[i];
        }
        return tokenizer.decode(wide, false);
    }

    private static Path tokenizerFile(Path fileOrModelDirectory) {
        Path file = Files.isDirectory(fileOrModelDirectory)
                ? fileOrModelDirectory.resolve("tokenizer.json") : fileOrModelDirectory;
        if (!Files.isRegularFile(file)) {
            throw new LayerscopeException(file + ": tokenizer file not found; a Hugging Face model directory "
                    + "must hold tokenizer.json (the fast-tokenizer file next to config.json)");
        }
        try {
            return file.toRealPath();
        } catch (IOException e) {
            throw new LayerscopeException(file + ": cannot resolve the tokenizer file (" + e.getMessage() + ")", e);
        }
    }

    private static HuggingFaceTokenEncoder load(Path file) {
        runDjlOffline();
        try {
            HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.builder()
                    .optTokenizerPath(file)
                    .optAddSpecialTokens(true)
                    .optTruncation(false)
                    .optPadding(false)
                    .build();
            return new HuggingFaceTokenEncoder(file, tokenizer);
        } catch (IOException | RuntimeException e) {
            throw new LayerscopeException(file + ": cannot load the tokenizer (" + e.getMessage()
                    + "); it must be a Hugging Face tokenizer.json as saved by transformers", e);
        }
    }

    /**
     * DJL reports to a telemetry endpoint at tokenizer creation unless offline mode is set;
     * layerscope contacts no host the user did not ask for. An explicit user setting wins.
     */
    private static void runDjlOffline() {
        if (System.getProperty("ai.djl.offline") == null && System.getenv("DJL_OFFLINE") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
    }
}
