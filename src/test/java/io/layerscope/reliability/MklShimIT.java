package io.layerscope.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The MKL shim submit.sh preloads on AMD CPUs (src/main/c/mkl_intel_cpu_true.c, built by
 * scripts/build-mkl-shim.sh): it must build, load into a JVM running libtorch, and leave the
 * products correct. Elsewhere (not AMD x86-64, no C compiler) the script builds nothing and this
 * test is skipped.
 */
class MklShimIT {
    @TempDir
    Path tmp;

    @Test
    void preloadedShimLoadsAndProductsStayCorrect() throws Exception {
        String shim = build(Map.of());
        Assumptions.assumeFalse(shim.isEmpty(), "scripts/build-mkl-shim.sh builds nothing on this machine");
        assertTrue(shim.endsWith("target/native/libmkl_intel_cpu_true.so"), shim);
        assertTrue(Files.isRegularFile(Path.of(shim)), shim);

        String with = probe(Map.of("LD_PRELOAD", shim), "with");
        String without = probe(Map.of(), "without");
        assertTrue(with.startsWith("mapped=true "), with);
        assertTrue(without.startsWith("mapped=false "), without);
        for (String result : List.of(with, without)) {
            double relative = Double.parseDouble(result.substring(result.indexOf("relative=") + 9));
            assertTrue(relative < 1e-5, result);
        }
    }

    @Test
    void switchedOffBuildsNothing() throws Exception {
        assertEquals("", build(Map.of("LAYERSCOPE_MKL_SHIM", "off")));
    }

    /** Runs the build script; its standard output is the library's path or nothing. */
    private String build(Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(ChildJvm.repo().resolve("scripts/build-mkl-shim.sh").toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue());
        return out;
    }

    private String probe(Map<String, String> env, String name) throws IOException, InterruptedException {
        Path log = tmp.resolve(name + ".log");
        Process p = ChildJvm.start(List.of("-Dai.djl.pytorch.num_threads=2"), MklShimProbe.class.getName(), List.of(),
                env, log);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "probe did not finish");
        String output = Files.readString(log);
        assertEquals(0, p.exitValue(), output);
        return output.lines().filter(l -> l.startsWith("mapped=")).findFirst().orElse(output);
    }
}
