package io.layerscope.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerscope.LayerscopeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelFilesTest {

    @TempDir
    Path tmp;

    @Test
    void picksSafetensorsAndTheFilesThatExist() {
        List<String> llama = List.of(".gitattributes", "config.json", "generation_config.json", "model.safetensors",
                "original/consolidated.00.pth", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json");
        assertEquals(List.of("config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json"),
                ModelFiles.metadata(llama));
        assertEquals(Optional.of("model.safetensors"), ModelFiles.weightsEntry(llama));

        List<String> sharded = List.of("config.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors",
                "pytorch_model.bin.index.json", "pytorch_model-00001-of-00002.bin");
        assertEquals(List.of("config.json"), ModelFiles.metadata(sharded));
        assertEquals(Optional.of("model.safetensors.index.json"), ModelFiles.weightsEntry(sharded));
        assertEquals(Optional.empty(), ModelFiles.weightsEntry(List.of("config.json", "pytorch_model.bin")));
        assertEquals(List.of("pytorch_model.bin"), ModelFiles.unreadableWeights(List.of("config.json", "pytorch_model.bin")));
    }

    @Test
    void readsShardNamesFromTheIndex() throws IOException {
        Path index = tmp.resolve("model.safetensors.index.json");
        Files.writeString(index, "{\"metadata\": {\"total_size\": 10}, \"weight_map\": {"
                + "\"lm_head.weight\": \"model-00002-of-00002.safetensors\","
                + "\"model.embed_tokens.weight\": \"model-00001-of-00002.safetensors\","
                + "\"model.norm.weight\": \"model-00002-of-00002.safetensors\"}}");
        assertEquals(List.of("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"),
                ModelFiles.shards(index));

        Files.writeString(index, "{\"weight_map\": {\"x\": \"../../evil.safetensors\"}}");
        assertEquals(index + ": weight_map maps x to \"../../evil.safetensors\", which is not a safetensors file of the"
                + " repo", assertThrows(LayerscopeException.class, () -> ModelFiles.shards(index)).getMessage());
        Files.writeString(index, "{\"weight_map\": {\"x\": \"a\\u0000b.safetensors\"}}");
        assertEquals(index + ": weight_map maps x to \"a?b.safetensors\", which is not a safetensors file of the repo",
                assertThrows(LayerscopeException.class, () -> ModelFiles.shards(index)).getMessage());
        Files.writeString(index, "{\"metadata\": {}}");
        assertEquals(index + ": has no weight_map naming the safetensors shards",
                assertThrows(LayerscopeException.class, () -> ModelFiles.shards(index)).getMessage());
    }
}
