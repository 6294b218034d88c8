package io.layerscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * conf/gpu/discover-gpus.sh as Spark runs it on an executor: its standard output is Spark's
 * ResourceInformation JSON, or, when it fails, what Spark quotes in the executor's error.
 */
class DiscoverGpusScriptTest {
    private static final Path SCRIPT = Path.of("conf/gpu/discover-gpus.sh").toAbsolutePath();

    @TempDir
    Path tmp;

    private record Ran(int status, String out) {
    }

    /** Runs the script with {@code nvidia} as nvidia-smi's body (none: not on the PATH). */
    private Ran run(String nvidia) throws IOException, InterruptedException {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        if (nvidia != null) {
            Path smi = bin.resolve("nvidia-smi");
            Files.writeString(smi, "#!/bin/sh\n" + nvidia + "\n");
            smi.toFile().setExecutable(true);
        }
        ProcessBuilder pb = new ProcessBuilder("bash", SCRIPT.toString()).redirectErrorStream(true);
        // the PATH of a node: the shell's tools, and nvidia-smi only where there is one
        pb.environment().put("PATH", bin + ":/usr/bin:/bin");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Ran(p.waitFor(), out);
    }

    @Test
    void listsTheGpusNvidiaSmiReports() throws Exception {
        // nvidia-smi --query-gpu=index --format=csv,noheader: one index a line
        assertEquals(new Ran(0, "{\"name\": \"gpu\", \"addresses\": [\"0\",\"1\",\"2\"]}\n"), run("printf '0\\n1\\n2\\n'"));
        assertEquals(new Ran(0, "{\"name\": \"gpu\", \"addresses\": []}\n"), run("exit 0"));
    }

    @Test
    void saysWhyWhenItCannot() throws Exception {
        assertEquals(new Ran(1, "discover-gpus.sh: nvidia-smi is not on this node's PATH (" + tmp.resolve("bin")
                + ":/usr/bin:/bin)\n"), run(null));
        assertEquals(new Ran(1, "discover-gpus.sh: nvidia-smi failed: NVIDIA-SMI has failed because it couldn't"
                + " communicate with the NVIDIA driver.\n"), run("echo \"NVIDIA-SMI has failed because it couldn't"
                + " communicate with the NVIDIA driver.\"; exit 9"));
    }
}
