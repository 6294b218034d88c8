package io.layerscope.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.DType;
import io.layerscope.model.SafetensorsWriter;
import io.layerscope.model.SyntheticLlama;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a pruned copy holds of a sharded checkpoint whose shards and index do not list the same tensors. */
class PrunedCheckpointWriterTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void theCopyHoldsExactlyTheTensorsTheIndexMapsEachFromItsShard() throws Exception {
        Path model = SyntheticLlama.builder().hidden(16).intermediate(24).layers(2).heads(2).kvHeads(1).vocab(32)
                .shards(2).write(tmp.resolve("m"));
        // a third shard: a second model.norm.weight (the index keeps the first shard's), tensors of names
        // no block file takes, and one the index does not list
        Map<String, float[]> extra = new LinkedHashMap<>();
        extra.put("model.norm.weight", filled(16, 7f));
        extra.put("model.layers.2.self_attn.rotary_emb.inv_freq", new float[] {1f, 0.5f});
        extra.put("model.layers.01.odd", new float[] {3f});
        extra.put("unlisted.weight", new float[] {4f});
        Files.write(model.resolve("extra.safetensors"), safetensors(extra));
        Path index = model.resolve(Checkpoint.INDEX_FILE);
        ObjectNode root = (ObjectNode) JSON.readTree(index.toFile());
        ObjectNode map = (ObjectNode) root.get("weight_map");
        map.put("model.layers.2.self_attn.rotary_emb.inv_freq", "extra.safetensors");
        map.put("model.layers.01.odd", "extra.safetensors");
        Files.writeString(index, root.toString());

        Checkpoint source = Checkpoint.open(model);
        Path out = Files.createDirectory(tmp.resolve("pruned"));
        PrunedCheckpointWriter w = new PrunedCheckpointWriter(source, out);
        w.writeBlock(0, Map.of());
        w.writeBlock(1, Map.of());
        w.finish(Map.of());

        Checkpoint copy = Checkpoint.open(out);
        TreeSet<String> listed = new TreeSet<>();
        map.fieldNames().forEachRemaining(listed::add);
        TreeSet<String> written = new TreeSet<>();
        JSON.readTree(out.resolve(Checkpoint.INDEX_FILE).toFile()).get("weight_map").fieldNames().forEachRemaining(written::add);
        assertEquals(listed, written, "every tensor the index maps, and only those");
        for (String name : listed) {
            assertArrayEquals(source.readFloats(name), copy.readFloats(name), name);
        }
        // the bytes of the shard the index names, not the F32 7s of the extra shard's second copy
        Tensor norm = raw(model.resolve(map.get("model.norm.weight").asText()), "model.norm.weight");
        Tensor copied = raw(out.resolve(JSON.readTree(out.resolve(Checkpoint.INDEX_FILE).toFile()).get("weight_map")
                .get("model.norm.weight").asText()), "model.norm.weight");
        assertEquals("BF16 [16]", copied.dtype() + " " + copied.shape(), "the first shard's, as the index says");
        assertArrayEquals(norm.bytes(), copied.bytes(), "the first shard's, as the index says");
        assertArrayEquals(new float[] {1f, 0.5f}, copy.readFloats("model.layers.2.self_attn.rotary_emb.inv_freq"));
        assertArrayEquals(new float[] {3f}, copy.readFloats("model.layers.01.odd"));
        assertEquals("model-00003-of-00003.safetensors", JSON.readTree(out.resolve(Checkpoint.INDEX_FILE).toFile())
                .get("weight_map").get("model.layers.01.odd").asText(), "no block's tensor: with the rest");
    }

    /**
     * Tensors larger than the writer's 8 MiB slice: an F32 one of three slices (2097 + 2097 + 306 rows
     * of 4000 bytes) and an F16 one of two (1446 + 4 rows of 5800 bytes), every byte of the source
     * non-zero so each zeroed entry shows. Masked entries come out as zero bytes, all others unchanged.
     */
    @Test
    void maskedEntriesAreZeroedAcrossSlicesInF32AndF16() throws Exception {
        Path model = SyntheticLlama.builder().hidden(16).intermediate(24).layers(1).heads(2).kvHeads(1).vocab(32)
                .shards(2).write(tmp.resolve("m"));
        String f32 = "model.layers.0.big_f32.weight";
        String f16 = "model.layers.0.big_f16.weight";
        int[][] shapes = {{4500, 1000}, {1450, 2900}};
        DType[] dtypes = {DType.F32, DType.F16};
        String[] names = {f32, f16};
        SplittableRandom rnd = new SplittableRandom(7);
        SafetensorsWriter big = new SafetensorsWriter();
        byte[][] source = new byte[2][];
        byte[][] pruned = new byte[2][];   // 1 where pruned, row-major: the test's own copy of each mask
        Map<String, LayerMask> masks = new LinkedHashMap<>();
        for (int t = 0; t < 2; t++) {
            int rows = shapes[t][0];
            int cols = shapes[t][1];
            source[t] = new byte[rows * cols * dtypes[t].bytes()];
            for (int k = 0; k < source[t].length; k++) {
                source[t][k] = (byte) (1 + rnd.nextInt(255));
            }
            big.add(names[t], dtypes[t], new long[] {rows, cols}, source[t]);
            pruned[t] = new byte[rows * cols];
            LayerMask.Builder b = new LayerMask.Builder(rows, cols);
            byte[] row = new byte[cols];
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    row[j] = (byte) (rnd.nextInt(3) == 0 ? 1 : 0);   // a third pruned, in no pattern
                }
                System.arraycopy(row, 0, pruned[t], i * cols, cols);
                b.row(i, row);
            }
            masks.put(names[t], b.build());
        }
        big.write(model.resolve("big.safetensors"));
        Path index = model.resolve(Checkpoint.INDEX_FILE);
        ObjectNode root = (ObjectNode) JSON.readTree(index.toFile());
        ((ObjectNode) root.get("weight_map")).put(f32, "big.safetensors").put(f16, "big.safetensors");
        Files.writeString(index, root.toString());

        Path out = Files.createDirectory(tmp.resolve("pruned"));
        PrunedCheckpointWriter w = new PrunedCheckpointWriter(Checkpoint.open(model), out);
        w.writeBlock(0, masks);
        w.finish(Map.of());

        Path block0 = out.resolve("model-00001-of-00002.safetensors");
        for (int t = 0; t < 2; t++) {
            Tensor copy = raw(block0, names[t]);
            assertEquals(dtypes[t] + " [" + shapes[t][0] + ", " + shapes[t][1] + "]", copy.dtype() + " " + copy.shape());
            int size = dtypes[t].bytes();
            byte[] got = copy.bytes();
            assertEquals(source[t].length, got.length, names[t]);
            long zeroed = 0;
            for (int k = 0; k < got.length; k++) {
                boolean masked = pruned[t][k / size] == 1;
                byte want = masked ? 0 : source[t][k];
                if (got[k] != want) {
                    int e = k / size;
                    throw new AssertionError(names[t] + " [" + e / shapes[t][1] + ", " + e % shapes[t][1] + "] byte " + k % size
                            + (masked ? " masked" : " kept") + ": " + got[k] + " instead of " + want);
                }
                zeroed += masked ? 1 : 0;
            }
            assertTrue(zeroed > got.length / 4, names[t] + ": about a third of the entries masked");
        }
    }

    @Test
    void aMaskOfAnotherShapeThanItsTensorIsRefused() throws Exception {
        Checkpoint source = Checkpoint.open(SyntheticLlama.builder().hidden(16).intermediate(24).layers(1).heads(2)
                .kvHeads(1).vocab(32).write(tmp.resolve("m")));
        String up = "model.layers.0.mlp.up_proj.weight";   // [24, 16]
        String norm = "model.layers.0.input_layernorm.weight";   // [16]: one dimension, no mask fits
        Object[][] cases = {
                {up, 16, 24, "mask of 16x24 for " + up + " [24, 16]"},
                {up, 24, 15, "mask of 24x15 for " + up + " [24, 16]"},
                {norm, 1, 16, "mask of 1x16 for " + norm + " [16]"},
        };
        for (Object[] c : cases) {
            LayerMask mask = new LayerMask.Builder((int) c[1], (int) c[2]).build();
            Path out = Files.createTempDirectory(tmp, "p");
            PrunedCheckpointWriter w = new PrunedCheckpointWriter(source, out);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> w.writeBlock(0, Map.of((String) c[0], mask)));
            assertEquals(c[3], e.getMessage());
            // refused before the block's file was begun
            try (java.util.stream.Stream<Path> files = Files.list(out)) {
                assertEquals(java.util.List.of(), files.toList(), (String) c[0]);
            }
        }
    }

    @Test
    void blockOfReadsOnlyABlocksOwnPrefix() {
        assertEquals(0, PrunedCheckpointWriter.blockOf("model.layers.0.mlp.up_proj.weight"));
        assertEquals(12, PrunedCheckpointWriter.blockOf("model.layers.12.input_layernorm.weight"));
        for (String name : new String[] {"model.layers.01.x", "model.layers.+1.x", "model.layers.-1.x", "model.layers.x",
                "model.layers.", "model.norm.weight", "lm_head.weight", "model.layers.99999999999.x"}) {
            assertEquals(-1, PrunedCheckpointWriter.blockOf(name), name);
        }
    }

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    private record Tensor(String dtype, String shape, byte[] bytes) {
    }

    /** One tensor of a safetensors file, found by reading its header by hand (not through SafetensorsFile). */
    private static Tensor raw(Path file, String name) throws Exception {
        byte[] all = Files.readAllBytes(file);
        long headerLength = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        com.fasterxml.jackson.databind.JsonNode t = JSON.readTree(new String(all, 8, (int) headerLength, StandardCharsets.UTF_8))
                .get(name);
        int from = 8 + (int) headerLength + t.get("data_offsets").get(0).asInt();
        int to = 8 + (int) headerLength + t.get("data_offsets").get(1).asInt();
        java.util.List<String> dims = new java.util.ArrayList<>();
        t.get("shape").forEach(d -> dims.add(d.asText()));
        return new Tensor(t.get("dtype").asText(), "[" + String.join(", ", dims) + "]", java.util.Arrays.copyOfRange(all, from, to));
    }

    /** A safetensors file of F32 tensors, its bytes written out by hand. */
    private static byte[] safetensors(Map<String, float[]> tensors) {
        StringBuilder header = new StringBuilder("{");
        long offset = 0;
        for (Map.Entry<String, float[]> e : tensors.entrySet()) {
            long end = offset + 4L * e.getValue().length;
            header.append(header.length() > 1 ? "," : "").append('"').append(e.getKey()).append("\":{\"dtype\":\"F32\",\"shape\":[")
                    .append(e.getValue().length).append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
            offset = end;
        }
        byte[] h = header.append('}').toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + (int) offset).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        tensors.values().forEach(v -> {
            for (float f : v) {
                b.putFloat(f);
            }
        });
        return b.array();
    }
}
