package io.layerscope.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerscope.model.Checkpoint;
import io.layerscope.model.SyntheticLlama;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each block's file is written through the caller's guard, which is how an interrupt (SIGINT) waits
 * for the file under way and then keeps any later one from being written into a deleted directory.
 */
class PrunedCheckpointWriterGuardTest {
    @TempDir
    Path tmp;

    @Test
    void everyBlockFileIsWrittenInsideTheGuardAndARefusingGuardWritesNothing() throws Exception {
        Checkpoint ckpt = Checkpoint.open(SyntheticLlama.builder().hidden(16).intermediate(24).layers(2).heads(2)
                .kvHeads(1).vocab(32).write(tmp.resolve("m")));
        Path out = Files.createDirectory(tmp.resolve("pruned"));
        int[] inside = {0};
        PrunedCheckpointWriter w = new PrunedCheckpointWriter(ckpt, out, write -> {
            inside[0]++;
            write.run();
        });
        w.writeBlock(0, Map.of());
        assertEquals(1, inside[0]);
        assertEquals(List.of("model-00001-of-00003.safetensors"), names(out));

        PrunedCheckpointWriter interrupted = new PrunedCheckpointWriter(ckpt, Files.createDirectory(tmp.resolve("p2")),
                write -> {
                    throw new InterruptedIOException("interrupted: the results are not kept");
                });
        assertThrows(InterruptedIOException.class, () -> interrupted.writeBlock(0, Map.of()));
        assertEquals(List.of(), names(tmp.resolve("p2")));
    }

    private static List<String> names(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
