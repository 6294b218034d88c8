package io.layerscope.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.fixtures.TestRequirements;
import io.layerscope.model.LlamaConfig;
import io.layerscope.model.RopeScaling;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** inv_freq against CPython evaluating REFERENCE.md's formula with the math module. */
class RotaryEmbeddingTest {
    private static final String PYTHON = String.join("\n",
            "import math",
            "d, theta, factor, low, high, orig = 64, 500000.0, 32.0, 1.0, 4.0, 8192",
            "lo_wavelen, hi_wavelen = orig / low, orig / high",
            "for i in range(d // 2):",
            "    f = 1.0 / theta ** (2 * i / d)",
            "    w = 2 * math.pi / f",
            "    if w < hi_wavelen:",
            "        r = f",
            "    elif w > lo_wavelen:",
            "        r = f / factor",
            "    else:",
            "        s = (orig / w - low) / (high - low)",
            "        r = (1 - s) * f / factor + s * f",
            "    print(repr(f), repr(r))");

    static LlamaConfig llama32OneB(RopeScaling scaling) {
        return new LlamaConfig("llama", 2048, 8192, 16, 32, 8, 64, 128256, 1e-5, 500000.0, scaling, 131072, true,
                "bfloat16");
    }

    @Test
    void llama32InverseFrequenciesEqualPythons() throws Exception {
        List<double[]> python = runPython();
        double[] scaled = RotaryEmbedding.inverseFrequencies(llama32OneB(new RopeScaling(32, 1, 4, 8192)));
        double[] plain = RotaryEmbedding.inverseFrequencies(llama32OneB(null));
        assertEquals(32, python.size());
        assertEquals(32, scaled.length);
        int unchanged = 0;
        int divided = 0;
        for (int i = 0; i < 32; i++) {
            double f = python.get(i)[0];
            double r = python.get(i)[1];
            assertEquals(f, plain[i], 1e-13 * f, "unscaled inv_freq " + i);
            assertEquals(r, scaled[i], 1e-13 * r, "llama3 inv_freq " + i);
            unchanged += r == f ? 1 : 0;
            divided += Math.abs(r - f / 32) <= 1e-15 * f ? 1 : 0;
        }
        // All three branches of the llama3 rule are exercised by these settings.
        assertTrue(unchanged > 0 && divided > 0 && unchanged + divided < 32,
                "unchanged " + unchanged + ", divided " + divided);
    }

    private static List<double[]> runPython() throws IOException, InterruptedException {
        Process p = new ProcessBuilder(TestRequirements.python3(), "-c", PYTHON).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, "python3 failed: " + out);
        return out.lines().map(l -> Arrays.stream(l.trim().split(" ")).mapToDouble(Double::parseDouble).toArray()).toList();
    }
}
