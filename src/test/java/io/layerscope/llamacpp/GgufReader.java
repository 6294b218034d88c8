package io.layerscope.llamacpp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerscope.fixtures.TestRequirements;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** A GGUF file as Hugging Face's npm parser reads it (src/test/resources/gguf/read-gguf.mjs), as JSON. */
final class GgufReader {
    private GgufReader() {
    }

    static JsonNode read(Path file) throws Exception {
        Path modules = TestRequirements.ggufReader();
        Path script = Path.of(GgufReader.class.getResource("/gguf/read-gguf.mjs").toURI());
        Process p = new ProcessBuilder("node", script.toString(), modules.toString(), file.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "node did not finish");
        assertEquals(0, p.exitValue(), out);
        return new ObjectMapper().readTree(out);
    }
}
