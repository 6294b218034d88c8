package io.layerscope.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticLlamaTest {
    @TempDir
    Path tmp;

    @Test
    void writesACheckpointThatOpensWithTheConfiguredShapes() {
        Path dir = SyntheticLlama.builder().hidden(32).intermediate(48).layers(2).heads(4).kvHeads(2)
                .vocab(100).tied(false).write(tmp.resolve("m"));
        Checkpoint ckpt = Checkpoint.open(dir);
        assertEquals(15, ckpt.prunableLayers().size());
        PrunableLayer k = ckpt.layer("model.layers.1.self_attn.k_proj");
        assertEquals(16, k.outFeatures());
        assertEquals(32, k.inFeatures());
        assertEquals("lm_head.weight", ckpt.layer("lm_head").weightTensor());
        assertEquals(DType.BF16, ckpt.storedDtype());
    }

    @Test
    void shardedAndSingleFileHoldTheSameValues() {
        SyntheticLlama b = SyntheticLlama.builder().hidden(32).intermediate(48).layers(2).heads(4).kvHeads(2).vocab(100);
        Checkpoint one = Checkpoint.open(b.shards(1).write(tmp.resolve("one")));
        Checkpoint three = Checkpoint.open(b.shards(3).write(tmp.resolve("three")));
        assertEquals(3, three.files().size());
        for (String t : new String[] {"model.embed_tokens.weight", "model.layers.1.mlp.down_proj.weight", "model.norm.weight"}) {
            assertArrayEquals(one.readFloats(t), three.readFloats(t));
        }
    }

    @Test
    void sameSettingsGiveTheSameBytes() throws Exception {
        SyntheticLlama b = SyntheticLlama.builder().seed(7).outlierFeatures(3, 5);
        assertEquals(sha256(b.write(tmp.resolve("a")).resolve("model.safetensors")),
                sha256(b.write(tmp.resolve("b")).resolve("model.safetensors")));
    }

    static String sha256(Path p) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
    }
}
