package io.layerscope.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.LayerscopeException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class C4ShardsTest {

    static final String COMMIT = "3333333333333333333333333333333333333333";

    @TempDir
    Path tmp;

    @Test
    void parsesTheCalibrationOption() {
        assertEquals(List.of(0), C4Shards.parse("c4"));
        assertEquals(List.of(7), C4Shards.parse("c4:7"));
        assertEquals(List.of(2, 0, 1023), C4Shards.parse("c4:2, 0,1023"));
        assertTrue(C4Shards.isC4("c4:1"));
        assertFalse(C4Shards.isC4("demo"));
        assertFalse(C4Shards.isC4("c4.json.gz"));
        assertEquals("en/c4-train.00000-of-01024.json.gz", C4Shards.shardFile(0));
        assertEquals("en/c4-train.01023-of-01024.json.gz", C4Shards.shardFile(1023));
    }

    @Test
    void refusesShardsThatDoNotExist() {
        assertEquals("--calibration c4:1024: \"1024\" is not a C4 shard number; shards are 0 to 1023, e.g. c4 (shard 0),"
                + " c4:5 or c4:0,1,2", assertThrows(LayerscopeException.class, () -> C4Shards.parse("c4:1024")).getMessage());
        assertEquals("--calibration c4:1,x: \"x\" is not a C4 shard number; shards are 0 to 1023, e.g. c4 (shard 0),"
                + " c4:5 or c4:0,1,2", assertThrows(LayerscopeException.class, () -> C4Shards.parse("c4:1,x")).getMessage());
        assertEquals("--calibration c4:: \"\" is not a C4 shard number; shards are 0 to 1023, e.g. c4 (shard 0),"
                + " c4:5 or c4:0,1,2", assertThrows(LayerscopeException.class, () -> C4Shards.parse("c4:")).getMessage());
        assertEquals("--calibration c4:3,3: shard 3 is listed twice",
                assertThrows(LayerscopeException.class, () -> C4Shards.parse("c4:3,3")).getMessage());
        assertEquals("--calibration wiki: not a C4 selection; use c4, c4:N or c4:N,M,...",
                assertThrows(LayerscopeException.class, () -> C4Shards.parse("wiki")).getMessage());
    }

    @Test
    void downloadsShardsFromTheDatasetRepo() throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (int shard = 0; shard < 3; shard++) {
            files.put(C4Shards.shardFile(shard), gzip(shardText(shard)));
        }
        files.put("en/c4-validation.00000-of-00008.json.gz", gzip("{}\n"));
        try (FakeHub hub = FakeHub.start()) {
            hub.commit(RepoType.DATASET, "allenai/c4", COMMIT, files);
            Map<String, String> env = Map.of("HF_ENDPOINT", hub.endpoint(), "HOME", tmp.toString());
            HubClient client = new HubClient(HubSettings.fromEnvironment(env, tmp.resolve("cache")),
                    ProgressListener.SILENT);

            List<Path> paths = new C4Shards(client).paths("c4:2,0");

            Path snapshot = tmp.resolve("cache/datasets--allenai--c4/snapshots/" + COMMIT);
            assertEquals(List.of(snapshot.resolve("en/c4-train.00002-of-01024.json.gz"),
                    snapshot.resolve("en/c4-train.00000-of-01024.json.gz")), paths);
            assertEquals(shardText(2), gunzip(paths.get(0)));
            assertArrayEquals(files.get(C4Shards.shardFile(0)), Files.readAllBytes(paths.get(1)));
            assertEquals(Path.of("../../../blobs/" + FakeHub.sha256(files.get(C4Shards.shardFile(0)))),
                    Files.readSymbolicLink(paths.get(1)));
            assertEquals(COMMIT, Files.readString(tmp.resolve("cache/datasets--allenai--c4/refs/main")));
            assertEquals(List.of("HEAD /datasets/allenai/c4/resolve/main/en/c4-train.00002-of-01024.json.gz",
                    "HEAD /datasets/allenai/c4/resolve/" + COMMIT + "/en/c4-train.00000-of-01024.json.gz"),
                    FakeHub.paths(hub.requests("hub")));

            ResolvedSnapshot again = new C4Shards(client).download(List.of(0));
            assertEquals(Map.of(C4Shards.shardFile(0), FakeHub.sha256(files.get(C4Shards.shardFile(0)))),
                    again.sha256ByFile());
        }
    }

    static String shardText(int shard) {
        StringBuilder text = new StringBuilder();
        for (int doc = 0; doc < 4; doc++) {
            text.append("{\"text\":\"shard ").append(shard).append(" document ").append(doc)
                    .append("\",\"timestamp\":\"2019-04-25T12:57:54Z\",\"url\":\"https://example.com/").append(doc)
                    .append("\"}\n");
        }
        return text.toString();
    }

    static byte[] gzip(String text) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(text.getBytes(StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }

    static String gunzip(Path file) throws IOException {
        try (GZIPInputStream in = new GZIPInputStream(Files.newInputStream(file))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
