package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerscope.fixtures.ReferencePython;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.SafetensorsFile;
import io.layerscope.model.SyntheticLlama;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import io.layerscope.hub.Sha256Cache;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WeightHashesTest {

    @Test
    void everyShardHashedAsHashlibDoes(@TempDir Path tmp) throws IOException {
        Path dir = SyntheticLlama.builder().hidden(32).intermediate(48).layers(2).heads(4).kvHeads(2).vocab(100)
                .shards(3).write(tmp.resolve("m"));
        Checkpoint ckpt = Checkpoint.open(dir);
        Map<Path, String> sums;
        try (WeightHashes hashes = WeightHashes.start(ckpt, new Sha256Cache(tmp.resolve("sha256"), Duration.ZERO))) {
            sums = hashes.get();
        }
        assertEquals(3, sums.size());
        for (SafetensorsFile f : ckpt.files()) {
            String python = ReferencePython.run("import hashlib, sys\nprint(hashlib.sha256(open(sys.argv[1], 'rb').read()).hexdigest())",
                    f.path().toString()).strip();
            assertEquals(python, sums.get(f.path()), f.path().toString());
        }
    }

    @Test
    void aFileThatVanishedIsReportedWhenTheHashesAreNeeded(@TempDir Path tmp) throws IOException {
        Path dir = SyntheticLlama.builder().hidden(32).intermediate(48).layers(1).heads(4).kvHeads(2).vocab(100)
                .write(tmp.resolve("m"));
        Checkpoint ckpt = Checkpoint.open(dir);
        Files.delete(ckpt.files().get(0).path());
        try (WeightHashes hashes = WeightHashes.start(ckpt, new Sha256Cache(tmp.resolve("sha256"), Duration.ZERO))) {
            NoSuchFileException e = assertThrows(NoSuchFileException.class, hashes::get);
            assertEquals(ckpt.files().get(0).path().toString(), e.getMessage());
        }
    }
}
