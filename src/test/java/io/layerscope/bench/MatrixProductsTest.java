package io.layerscope.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.layerscope.model.LlamaConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

class MatrixProductsTest {
    @Test
    void oneBlocksProductsAsTheForwardRunsThem() throws Exception {
        // the benchmark's model: hidden 512, 8 heads of 64, 2 KV heads, intermediate 1408
        LlamaConfig c = LlamaConfig.parse(new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                "{\"model_type\": \"llama\", \"hidden_size\": 512, \"intermediate_size\": 1408, \"num_hidden_layers\": 8,"
                        + " \"num_attention_heads\": 8, \"num_key_value_heads\": 2, \"vocab_size\": 128256,"
                        + " \"rms_norm_eps\": 1e-5, \"max_position_embeddings\": 2048}"), "test");
        assertEquals(List.of(new MatrixProducts.Product("qkv", 512, 512 + 2 * 128), new MatrixProducts.Product("o", 512, 512),
                new MatrixProducts.Product("gate_up", 512, 2816), new MatrixProducts.Product("down", 1408, 512)),
                MatrixProducts.products(c));
        assertEquals(2.0 * 256 * 1408 * 512, new MatrixProducts.Product("down", 1408, 512).flops(256));
    }
}
