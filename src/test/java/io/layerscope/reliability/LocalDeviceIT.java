package io.layerscope.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --device in local mode: on the CPU the sweep equals one without it, and run.json records the choice.
 * (No GPU here: --device cuda is refused on the CPU build of libtorch, MainTest; the tasks' routing to
 * the chosen device is LocalDeviceTest's.)
 */
class LocalDeviceIT {
    @TempDir
    Path tmp;

    @AfterAll
    static void releaseSession() {
        TestSessions.stop();
    }

    @Test
    void aSweepWithDeviceCpuEqualsOneWithout() throws Exception {
        Path out = tmp.resolve("cpu");
        SweepResults.assertSame(ReferenceSweep.results(), ReferenceSweep.rerun(out, "--device", "CPU"), 0);
        SweepResults.assertNoLeftovers(out);
        JsonNode run = new ObjectMapper().readTree(out.resolve("run.json").toFile());
        assertEquals("cpu", run.path("options").path("calibration").path("device").asText(), run.toString());
        JsonNode reference = new ObjectMapper().readTree(ReferenceSweep.dir().resolve("run.json").toFile());
        JsonNode none = reference.path("options").path("calibration").path("device");
        assertTrue(none.isNull() || none.isMissingNode(), reference.toString());
        assertTrue(run.path("devices").toString().contains("cpu"), run.path("devices").toString());
    }
}
