package io.layerscope.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.cli.Main;
import io.layerscope.model.DemoModel;
import io.layerscope.spark.RunRecord;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole path a user takes with a repo id and {@code --calibration c4}: model and C4 shard
 * downloaded from a Hub (a fake one on 127.0.0.1) into the cache, then the sweep, with the repo,
 * commit and weight hashes in run.json.
 */
class HubSweepIT {
    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";
    static final String C4_COMMIT = "89abcdef0123456789abcdef0123456789abcdef";

    @TempDir
    Path tmp;

    @Test
    void sweepOfARepoIdWithC4DownloadsBothOnceAndRecordsTheirProvenance() throws Exception {
        Path demo = DemoModel.ensure(tmp.resolve("demo-cache"));
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (String f : List.of("config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors")) {
            files.put(f, Files.readAllBytes(demo.resolve(f)));
        }
        byte[] shard = Files.readAllBytes(DemoModel.calibrationShard(tmp.resolve("demo-cache")));
        try (FakeHub hub = FakeHub.start()) {
            hub.commit(RepoType.MODEL, "layerscope/tiny-llama", COMMIT, files);
            hub.commit(RepoType.DATASET, "allenai/c4", C4_COMMIT, Map.of(C4Shards.shardFile(0), shard));
            Path cache = tmp.resolve("cache");
            Path out = tmp.resolve("results");
            // HOME: the hashes the download remembers and the sweep looks up go under it
            Map<String, String> env = Map.of("HF_ENDPOINT", hub.endpoint(), "HOME", tmp.resolve("home").toString());

            StringWriter err = new StringWriter();
            var cl = Main.commandLine(env);
            cl.setErr(new PrintWriter(err, true));
            int status = cl.execute("sweep", "--model", "layerscope/tiny-llama", "--calibration", "c4",
                    "--cache-dir", cache.toString(), "--out", out.toString(), "--nsamples", "4", "--seqlen", "32",
                    "--layers", "layers\\.0\\.mlp\\.up_proj", "--no-png");
            assertEquals(0, status, err.toString());

            RunRecord run = RunRecord.read(out);
            assertEquals("layerscope/tiny-llama", run.model().repoId());
            assertEquals(COMMIT, run.model().commit());
            assertEquals(FakeHub.sha256(files.get("model.safetensors")), run.model().files().get(0).sha256());
            // the download remembered the sha256 it verified, under the blob's real path
            Path blob = cache.resolve("models--layerscope--tiny-llama/snapshots/" + COMMIT + "/model.safetensors").toRealPath();
            try (var entries = Files.list(tmp.resolve("home/.cache/layerscope/sha256"))) {
                assertTrue(entries.map(HubSweepIT::lines).anyMatch(l -> l.get(0).equals(blob.toString())
                        && l.get(2).equals(FakeHub.sha256(files.get("model.safetensors")))));
            }
            assertEquals("c4", run.calibration().source());
            assertEquals(407, run.calibration().documents());
            assertTrue(Files.isSymbolicLink(cache.resolve("models--layerscope--tiny-llama/snapshots/" + COMMIT
                    + "/model.safetensors")));
            assertTrue(Files.isRegularFile(cache.resolve("datasets--allenai--c4/snapshots/" + C4_COMMIT + "/"
                    + C4Shards.shardFile(0))));

            // a second run is served from the cache: no file is fetched again
            int before = hub.requests("cdn").size();
            Map<String, String> offline = Map.of("HF_ENDPOINT", hub.endpoint(), "HF_HUB_OFFLINE", "1",
                    "HOME", tmp.resolve("home").toString());
            var again = Main.commandLine(offline);
            again.setErr(new PrintWriter(new StringWriter(), true));
            assertEquals(0, again.execute("list-layers", "--model", "layerscope/tiny-llama", "--cache-dir", cache.toString()));
            assertEquals(before, hub.requests("cdn").size());

            // the sweep takes the weights' sha256 from the entry the download wrote (a planted digest
            // shows it was not read again), in the cache the command's environment names
            String planted = "f".repeat(64);
            try (var entries = Files.list(tmp.resolve("home/.cache/layerscope/sha256"))) {
                for (Path e : entries.toList()) {
                    List<String> l = lines(e);
                    if (l.size() == 3 && l.get(0).equals(blob.toString())) {
                        Files.write(e, List.of(l.get(0), l.get(1), planted));
                    }
                }
            }
            Path out2 = tmp.resolve("results-2");
            var sweep2 = Main.commandLine(offline);
            StringWriter err2 = new StringWriter();
            sweep2.setErr(new PrintWriter(err2, true));
            assertEquals(0, sweep2.execute("sweep", "--model", "layerscope/tiny-llama", "--calibration", "c4",
                    "--cache-dir", cache.toString(), "--out", out2.toString(), "--nsamples", "2", "--seqlen", "32",
                    "--layers", "layers\\.0\\.mlp\\.up_proj", "--no-png"), err2.toString());
            assertEquals(planted, RunRecord.read(out2).model().files().get(0).sha256());
        }
    }

    private static List<String> lines(Path p) {
        try {
            return Files.readAllLines(p);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
