package io.layerscope.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.Map;
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
        SweepResults without = ReferenceSweep.results();
        TestSessions.start("local[2]", Map.of());
        Path out = tmp.resolve("cpu");
        Cli.Run r = Cli.run(ReferenceSweep.args(out, "--device", "CPU"));
        assertEquals(0, r.status(), r.err());
        SweepResults.assertSame(without, SweepResults.read(out), 0);
        SweepResults.assertNoLeftovers(out);
        JsonNode run = new ObjectMapper().readTree(out.resolve("run.json").toFile());
        assertEquals("cpu", run.path("options").path("calibration").path("device").asText(), run.toString());
        JsonNode reference = new ObjectMapper().readTree(ReferenceSweep.dir().resolve("run.json").toFile());
        JsonNode none = reference.path("options").path("calibration").path("device");
        assertTrue(none.isNull() || none.isMissingNode(), reference.toString());
        assertTrue(run.path("devices").toString().contains("cpu"), run.path("devices").toString());
    }
}
