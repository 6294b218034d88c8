package io.layerscope.stats;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a CPython snippet for reference values. The snippet reads its input from stdin and prints
 * lines {@code name v1 v2 ...}; {@link #run} returns them by name.
 */
final class Python3 {
    private Python3() {
    }

    static Map<String, double[]> run(String script, String stdin) throws IOException, InterruptedException {
        Process process = new ProcessBuilder("python3", "-c", script).redirectErrorStream(true).start();
        try (OutputStream in = process.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IllegalStateException("python3 failed:\n" + output);
        }
        Map<String, double[]> values = new HashMap<>();
        for (String line : output.strip().split("\n")) {
            String[] parts = line.strip().split("\\s+");
            values.put(parts[0], Arrays.stream(parts).skip(1).mapToDouble(Double::parseDouble).toArray());
        }
        return values;
    }

    /** Floats as exact decimal doubles, space separated: Python parses them back to the same value. */
    static String numbers(float[] values) {
        List<String> parts = new ArrayList<>(values.length);
        for (float v : values) {
            parts.add(Double.toString(v));
        }
        return String.join(" ", parts);
    }
}
