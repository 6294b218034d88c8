package io.layerscope.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerscope.fixtures.C4Fixtures;
import io.layerscope.fixtures.TestRequirements;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The catalogue of bad input: each case asserts the exact message (one paragraph on standard error;
 * picocli's usage errors add its suggestion and a --help hint), the exit status (2: the user can fix
 * it), and that nothing was written: no results directory, nothing beside it (staging, lock), and no
 * change to the model directory. Cases found after the results directory was reserved (the
 * tokenizer, the calibration data, a full disk) check that the reservation was rolled back.
 */
class BadInputIT {
    @TempDir
    static Path tmp;

    private static Path cache;
    private static Path demo;
    private static Path demoShard;
    private static int runs;

    @BeforeAll
    static void fixtures() {
        cache = DemoCache.dir();
        demo = DemoCache.model();
        demoShard = demo.resolve("c4-demo.json.gz");
    }

    @AfterAll
    static void releaseSession() {
        TestSessions.stop();
    }

    /** A fresh, empty directory to put --out in. */
    private static Path out() throws IOException {
        return Files.createDirectories(tmp.resolve("runs").resolve(Integer.toString(runs++))).resolve("results");
    }

    /** Runs the command; asserts status 2, the exact standard error, and that nothing was written beside {@code out}. */
    private static void refused(Path out, String expectedErr, String... args) throws IOException {
        Cli.Run r = Cli.run(args);
        assertEquals(expectedErr, r.err());
        assertEquals(2, r.status());
        assertEquals("", r.out());
        assertFalse(Files.exists(out), out + " was created");
        assertEquals(List.of(), list(out.getParent()), "left beside " + out);
    }

    private static String[] demoSweep(Path out, String... more) {
        List<String> args = new ArrayList<>(List.of("sweep", "--model", "demo", "--cache-dir", cache.toString(),
                "--no-png", "--out", out.toString()));
        args.addAll(List.of(more));
        return args.toArray(new String[0]);
    }

    private static String[] modelSweep(Path model, Path out) {
        return new String[] {"sweep", "--model", model.toString(), "--calibration", demoShard.toString(), "--nsamples", "4",
            "--seqlen", "64", "--no-png", "--out", out.toString()};
    }

    // ---- commands and options

    @Test
    void unknownCommand() throws IOException {
        Path out = out();
        refused(out, """
                error: unknown command 'swep'; the commands are sweep, layer, query, layer-types, list-layers, completion, help
                Did you mean: layerscope sweep?
                Try 'layerscope --help' for more information.
                """, "swep", "--model", "demo", "--out", out.toString());
    }

    @Test
    void unknownOption() throws IOException {
        Path out = out();
        refused(out, """
                error: Unknown option: '--nsample'
                Possible solutions: --nsamples
                Try 'layerscope sweep --help' for more information.
                """, demoSweep(out, "--nsample", "4"));
    }

    @Test
    void nsamplesZeroOrNegativeOrNotANumber() throws IOException {
        Path out = out();
        refused(out, "error: --nsamples 0 must be at least 1\n", demoSweep(out, "--nsamples", "0"));
        long room = Runtime.getRuntime().maxMemory() / 2 / Integer.BYTES;   // this JVM is the driver
        refused(out, "error: --nsamples 2147483647 x --seqlen 256 is 549755813632 calibration tokens, more than the"
                + " driver's heap can hold (at most " + room + " with this heap); use fewer samples, or a larger driver"
                + " heap (--driver-memory, or LAYERSCOPE_DRIVER_MEMORY)\n", demoSweep(out, "--nsamples", "2147483647"));
        refused(out, "error: --nsamples -3 must be at least 1\n", demoSweep(out, "--nsamples", "-3"));
        refused(out, "error: Invalid value for option '--nsamples': 'many' is not an int\n"
                + "Try 'layerscope sweep --help' for more information.\n", demoSweep(out, "--nsamples", "many"));
        refused(out, "error: --batch-size 0 must be at least 1\n", demoSweep(out, "--batch-size", "0"));
        refused(out, "error: --sparsity 1.0 must be between 0 and 1, e.g. --sparsity 0.5\n", demoSweep(out, "--sparsity", "1"));
        refused(out, "error: --sparsity 0.0 must be between 0 and 1, e.g. --sparsity 0.5\n", demoSweep(out, "--sparsity", "0"));
        refused(out, "error: --sparsity NaN must be between 0 and 1, e.g. --sparsity 0.5\n", demoSweep(out, "--sparsity", "NaN"));
    }

    @Test
    void pruningOptionsThatMakeNoSenseAreRefusedBeforeAnythingIsWritten() throws IOException {
        Path out = out();
        Path pruned = out.resolveSibling("pruned");
        refused(out, "error: --sparsity 1.5 must be between 0 and 1, e.g. --sparsity 0.5\n",
                demoSweep(out, "--mode", "sequential", "--sparsity", "1.5", "--save-pruned", pruned.toString()));
        refused(out, "error: --mode sideways is not a mode; use --mode dense or --mode sequential\n",
                demoSweep(out, "--mode", "sideways"));
        refused(out, "error: --prune-n 4 --prune-m 4 is not an N:M pattern; it needs 0 < N < M, e.g. --prune-n 2"
                + " --prune-m 4\n", demoSweep(out, "--prune-n", "4", "--prune-m", "4"));
        refused(out, "error: --prune-n 5 --prune-m 4 is not an N:M pattern; it needs 0 < N < M, e.g. --prune-n 2"
                + " --prune-m 4\n", demoSweep(out, "--prune-n", "5", "--prune-m", "4"));
        refused(out, "error: --prune-n needs --prune-m too: N:M masks take both, e.g. --prune-n 2 --prune-m 4\n",
                demoSweep(out, "--prune-n", "2"));
        refused(out, "error: --prune-m needs --prune-n too: N:M masks take both, e.g. --prune-n 2 --prune-m 4\n",
                demoSweep(out, "--prune-m", "4"));
        refused(out, "error: --prune-m 3 does not divide the in_features 128 of model.layers.0.self_attn.q_proj; N:M"
                + " masks need whole groups of M input columns (use an M that divides 128)\n",
                demoSweep(out, "--mode", "sequential", "--prune-n", "1", "--prune-m", "3", "--save-pruned", pruned.toString()));
        refused(out, "error: --allocation greedy is not an allocation; use --allocation uniform or --allocation owl\n",
                demoSweep(out, "--allocation", "greedy"));
        refused(out, "error: --owl-lambda 0.6 must be at least 0 and below 0.5, e.g. --owl-lambda 0.08\n",
                demoSweep(out, "--allocation", "owl", "--owl-lambda", "0.6"));
        refused(out, "error: --allocation owl spreads an unstructured sparsity over the blocks, but --prune-n 2"
                + " --prune-m 4 prunes 2 of every 4 in every block; use one or the other\n",
                demoSweep(out, "--allocation", "owl", "--prune-n", "2", "--prune-m", "4"));
        refused(out, "error: --save-pruned " + out + " and --out " + out + " are the same directory; the pruned model and"
                + " the results need one each\n", demoSweep(out, "--save-pruned", out.toString()));
    }

    @Test
    void anExistingSavePrunedDirectoryIsRefusedAndOnlyAPrunedCheckpointIsReplaced() throws IOException {
        Path out = out();
        Path pruned = Files.createDirectories(out.resolveSibling("pruned"));
        Files.writeString(pruned.resolve("notes.txt"), "keep me");
        Cli.Run r = Cli.run(demoSweep(out, "--save-pruned", pruned.toString(), "--nsamples", "4", "--seqlen", "64"));
        assertEquals("error: pruned checkpoint " + pruned + " already exists; choose another --save-pruned or pass"
                + " --overwrite to replace it\n", r.err());
        assertEquals(2, r.status());
        r = Cli.run(demoSweep(out, "--save-pruned", pruned.toString(), "--overwrite", "--nsamples", "4", "--seqlen", "64"));
        assertEquals("error: --overwrite refuses to replace --save-pruned " + pruned + ": it is not a layerscope pruned"
                + " checkpoint (no layerscope-pruned.json), and --overwrite only replaces pruned checkpoints that"
                + " layerscope wrote; choose another --save-pruned or remove it yourself\n", r.err());
        assertEquals(2, r.status());
        assertEquals(List.of("notes.txt"), list(pruned));
        assertEquals(List.of("pruned"), list(out.getParent()), "nothing beside them (results, lock, staging)");

        Path ours = out.resolveSibling("ours");
        r = Cli.run(demoSweep(out, "--save-pruned", ours.toString(), "--nsamples", "4", "--seqlen", "64"));
        assertEquals(0, r.status(), r.err());
        r = Cli.run(demoSweep(out, "--save-pruned", ours.toString(), "--overwrite", "--nsamples", "4", "--seqlen", "64"));
        assertEquals(0, r.status(), "a pruned checkpoint layerscope wrote is replaced: " + r.err());
        assertTrue(Files.isRegularFile(ours.resolve("layerscope-pruned.json")));
    }

    @Test
    void outlierFeatureSharesOutsideZeroToOne() throws IOException {
        Path out = out();
        refused(out, "error: --outlier-block-share 1.5 must be a share between 0 and 1, e.g. --outlier-block-share 0.25\n",
                demoSweep(out, "--outlier-block-share", "1.5"));
        refused(out, "error: --outlier-position-share -0.1 must be a share between 0 and 1, e.g."
                + " --outlier-position-share 0.06\n", demoSweep(out, "--outlier-position-share", "-0.1"));
        refused(out, "error: --outlier-position-share NaN must be a share between 0 and 1, e.g."
                + " --outlier-position-share 0.06\n", demoSweep(out, "--outlier-position-share", "NaN"));
    }

    @Test
    void aPictureSizeThatIsNotWidthByHeightOrOutOfRange() throws IOException {
        Path out = out();
        refused(out, "error: --png-size '1800' is not WIDTHxHEIGHT in pixels; e.g. --png-size 1800x1500\n",
                demoSweep(out, "--png-size", "1800"));
        refused(out, "error: --png-size 599x500 is out of range: at least 600x500 (nine readable panels), at most"
                + " 8000x8000\n", demoSweep(out, "--png-size", "599x500"));
        refused(out, "error: --png-size 9000x800 is out of range: at least 600x500 (nine readable panels), at most"
                + " 8000x8000\n", demoSweep(out, "--png-size", "9000X800"));
    }

    @Test
    void seqlenBeyondTheModelsPositionsOrBelowTwo() throws IOException {
        Path out = out();
        // the demo model's config.json: max_position_embeddings 2048
        refused(out, "error: --seqlen 4096 exceeds the model's max_position_embeddings 2048; use --seqlen 2048 or less\n",
                demoSweep(out, "--seqlen", "4096"));
        refused(out, "error: --seqlen 1 must be at least 2\n", demoSweep(out, "--seqlen", "1"));
        refused(out, "error: --seqlen 0 must be at least 2\n", demoSweep(out, "--seqlen", "0"));
    }

    @Test
    void aLayerThatDoesNotExistGetsTheNearestNames() throws IOException {
        Path out = out();
        // edit distance 1 to block 1's down_proj, 2 to blocks 0 and 2 (ties in name order)
        refused(out, "error: no prunable layer named \"model.layers.1.mlp.down_prj\" in " + demo + ". Closest:"
                        + " model.layers.1.mlp.down_proj, model.layers.0.mlp.down_proj, model.layers.2.mlp.down_proj"
                        + " (run list-layers to see them all)\n",
                "layer", "--model", "demo", "--cache-dir", cache.toString(), "--layer", "model.layers.1.mlp.down_prj",
                "--out", out.toString());
        // the demo model has blocks 0..3
        refused(out, "error: no prunable layer named \"model.layers.9.self_attn.q_proj\" in " + demo + ". Closest:"
                        + " model.layers.0.self_attn.q_proj, model.layers.1.self_attn.q_proj, model.layers.2.self_attn.q_proj"
                        + " (run list-layers to see them all)\n",
                "layer", "--model", "demo", "--cache-dir", cache.toString(), "--layer", "model.layers.9.self_attn.q_proj",
                "--out", out.toString());
    }

    @Test
    void aLayersRegexThatMatchesNothingOrDoesNotCompile() throws IOException {
        Path out = out();
        // 4 blocks x 7 projections + lm_head
        refused(out, "error: --layers \"attn\\.qproj\" matches none of the 29 prunable layers (names look like"
                + " model.layers.0.self_attn.q_proj; run list-layers to see them)\n", demoSweep(out, "--layers", "attn\\.qproj"));
        refused(out, "error: --layers \"mlp.(down\" is not a valid regular expression: Unclosed group near index 9\n",
                demoSweep(out, "--layers", "mlp.(down"));
    }

    @Test
    void anExistingOutputDirectoryOrFile() throws IOException {
        Path out = out();
        Path existing = Files.createDirectories(out.resolveSibling("done"));
        Files.writeString(existing.resolve("run.json"), "{}");
        Cli.Run r = Cli.run(demoSweep(existing, "--nsamples", "4", "--seqlen", "64"));
        assertEquals(2, r.status());
        assertEquals("error: results directory " + existing + " already exists; choose another --out or pass --overwrite"
                + " to replace it\n", r.err());
        assertEquals(List.of("run.json"), list(existing));
        Path file = Files.writeString(out.resolveSibling("a-file"), "x");
        for (String overwrite : new String[] {"--overwrite", "--no-depth"}) {   // with or without, the same advice
            r = Cli.run(demoSweep(file, overwrite, "--nsamples", "4", "--seqlen", "64"));
            assertEquals(2, r.status());
            assertEquals("error: --out " + file + " exists and is not a directory; name a new directory for the results,"
                    + " e.g. --out results/run1\n", r.err());
        }
        r = Cli.run(demoSweep(file.resolve("results"), "--nsamples", "4", "--seqlen", "64"));
        assertEquals(2, r.status());
        assertEquals("error: cannot create the parent directory of --out " + file.resolve("results") + " (" + file
                + " exists and is not a directory)\n", r.err());
        assertEquals(List.of("a-file", "done"), list(out.getParent()));
    }

    @Test
    void aCalibrationCacheThatIsAFileOrInsideTheResults() throws IOException {
        Path out = out();
        Path file = Files.writeString(Files.createDirectories(tmp.resolve("caches")).resolve("a-file"), "x");
        refused(out, "error: --calibration-cache " + file + " is not a directory; give a directory the cached stage-one"
                + " results can be kept in\n", demoSweep(out, "--calibration-cache", file.toString()));
        assertEquals("x", Files.readString(file));
        Path inside = out.resolve("stage-one");
        refused(out, "error: --calibration-cache " + inside + " is inside --out " + out + ", which the run writes as a"
                + " whole; keep the cache in a directory of its own\n", demoSweep(out, "--calibration-cache", inside.toString()));
        // inside an earlier run's results, which would then refuse its next --overwrite
        Path earlier = Files.createDirectories(tmp.resolve("earlier").resolve("layers.parquet")).getParent();
        Files.writeString(earlier.resolve("run.json"), "{}");
        Path there = earlier.resolve("stage-one");
        refused(out, "error: --calibration-cache " + there + " is inside " + earlier + ", the results of another run,"
                + " which --overwrite replaces as a whole; give --calibration-cache a place of its own\n",
                demoSweep(out, "--calibration-cache", there.toString()));
        assertFalse(Files.exists(there));
        // refused for another reason: the cache's directory is not made either
        Path fresh = tmp.resolve("caches").resolve("fresh");
        Path nowhere = tmp.resolve("missing").resolve("imatrix.gguf");
        refused(out, "error: --imatrix " + nowhere + ": the directory " + nowhere.getParent() + " does not exist\n",
                demoSweep(out, "--calibration-cache", fresh.toString(), "--imatrix", nowhere.toString()));
        assertEquals(List.of("a-file"), list(fresh.getParent()));
        // or failing later, in sampling: the directory is made only by the first entry stored
        Cli.Run r = Cli.run(demoSweep(out, "--calibration-cache", fresh.toString(), "--calibration",
                tmp.resolve("nope.jsonl").toString()));
        assertEquals(2, r.status(), r.err());
        assertEquals(List.of("a-file"), list(fresh.getParent()));
        assertFalse(Files.exists(out));
    }

    @Test
    void anOverwriteOfWhatLayerscopeDidNotWriteIsRefusedAndNothingIsDeleted() throws IOException {
        Path out = out();
        Path theirs = Files.createDirectories(out.resolveSibling("theirs"));
        Files.writeString(theirs.resolve("notes.txt"), "keep me");
        Cli.Run r = Cli.run(demoSweep(theirs, "--overwrite", "--nsamples", "4", "--seqlen", "64"));
        assertEquals("error: --overwrite refuses to replace --out " + theirs + ": it is not a layerscope results directory"
                + " (no run.json), and --overwrite only replaces results that layerscope wrote; choose another --out or"
                + " remove it yourself\n", r.err());
        assertEquals(2, r.status());
        assertEquals(List.of("notes.txt"), list(theirs));
        assertEquals(List.of("theirs"), list(out.getParent()), "nothing beside it (lock, staging)");

        Path model = demoCopy("overwritten");
        TreeSet<String> before = tree(model);
        r = Cli.run(overwriting(modelSweep(model, model)));
        assertEquals("error: --overwrite refuses to replace --out " + model + ": it is the model directory " + model
                + "; choose another --out\n", r.err());
        assertEquals(2, r.status());
        r = Cli.run(overwriting(modelSweep(model, model.getParent())));
        assertEquals("error: --overwrite refuses to replace --out " + model.getParent() + ": it contains the model directory "
                + model + "; choose another --out\n", r.err());
        assertEquals(before, tree(model), "the model directory changed");

        Path ours = Files.createDirectories(out.resolveSibling("ours"));
        r = Cli.run(demoSweep(ours, "--overwrite", "--nsamples", "4", "--seqlen", "64"));
        assertEquals(0, r.status(), r.err());
        Files.writeString(ours.resolve("my-notes.md"), "keep me");
        TreeSet<String> results = tree(ours);
        r = Cli.run(demoSweep(ours, "--overwrite", "--nsamples", "4", "--seqlen", "64"));
        assertEquals("error: --overwrite refuses to replace --out " + ours + ": it is not a layerscope results directory"
                + " (it also holds my-notes.md, which layerscope did not write), and --overwrite only replaces results"
                + " that layerscope wrote; choose another --out or remove it yourself\n", r.err());
        assertEquals(results, tree(ours));
        Files.delete(ours.resolve("my-notes.md"));
        r = Cli.run(demoSweep(ours, "--overwrite", "--nsamples", "4", "--seqlen", "64"));
        assertEquals(0, r.status(), "a results directory layerscope wrote is replaced: " + r.err());
    }

    private static String[] overwriting(String[] args) {
        String[] more = Arrays.copyOf(args, args.length + 1);
        more[args.length] = "--overwrite";
        return more;
    }

    @Test
    void anEmptyOutOrTheRootOfTheFileSystem() throws IOException {
        Path out = out();
        refused(out, "error: --out is empty; name the results directory, e.g. --out results/run1\n", demoSweep(Path.of("")));
        Cli.Run r = Cli.run(demoSweep(Path.of("/"), "--overwrite"));
        assertEquals("error: --out / is the root of the file system; name a new directory for the results, e.g."
                + " --out results/run1\n", r.err());
        assertEquals(2, r.status());
    }

    /** A master Spark cannot start with: its failure on the start-up thread reaches the driver at once. */
    @Test
    void aMasterSparkCannotStartWith() throws Exception {
        String expected = "error: Spark did not start with --master local[0] (Asked to run locally with 0 threads);"
                + " check --master and the --conf settings\n";
        refusedByMaster("local[0]", List.of(expected));
    }

    /** --device under a cluster master (spark-submit's --master): refused before Spark starts, nothing written. */
    @Test
    void aDeviceWithAClusterMaster() throws Exception {
        Path out = out();
        Cli.Run r = inChildJvm("io.layerscope.cli.Main", List.of("-Dspark.master=spark://127.0.0.1:9"),
                List.of(demoSweep(out, "--device", "cuda")));
        assertEquals(2, r.status(), r.err());
        assertEquals(List.of("error: --device cuda is for local mode (no --master, or --master local[N]), whose tasks run"
                + " on this machine; with --master spark://127.0.0.1:9 Spark decides where the executors' tasks run:"
                + " drop --device (for their GPUs, use the GPU profile: --properties-file conf/gpu/spark-gpu.conf,"
                + " docs/CLUSTER.md)"),
                r.err().lines().filter(l -> l.startsWith("error: ")).toList(), r.err());
        assertFalse(r.err().contains("SparkContext"), "Spark started: " + r.err());
        assertFalse(Files.exists(out));
        assertEquals(List.of(), list(out.getParent()), "left beside " + out);
    }

    /** The GPU profile's task resources without a cluster: local mode would leave the first job waiting for ever. */
    @Test
    void taskResourcesInLocalMode() throws Exception {
        Path out = out();
        Cli.Run r = inChildJvm("io.layerscope.cli.Main", List.of("-Dspark.master=local[2]",
                "-Dspark.task.resource.gpu.amount=1"), List.of(demoSweep(out, "--nsamples", "4", "--seqlen", "64")));
        assertEquals(2, r.status(), r.err());
        assertEquals(List.of("error: --master local[2] cannot run tasks that ask for spark.task.resource.gpu.amount=1:"
                + " Spark's local mode gives its tasks no such resources, and the job would wait for ever. Run on a"
                + " cluster manager (--master spark://..., yarn or k8s://...), or leave out the resource settings"
                + " (conf/gpu/spark-gpu.conf): without them local mode runs on this machine's CPUs, or with --device cuda"
                + " on its GPU"), r.err().lines().filter(l -> l.startsWith("error: ")).toList(), r.err());
        assertFalse(Files.exists(out));
        assertEquals(List.of(), list(out.getParent()), "left beside " + out);
    }

    /**
     * A standalone master nobody listens at: refused at once, where Spark would give up after 3 tries
     * 20 s apart (a master that accepts the connection but never answers still takes Spark's minute:
     * {@code SparkStartupTest} covers how that is told).
     */
    @Test
    void aStandaloneMasterThatDoesNotAnswer() throws Exception {
        int port = io.layerscope.fixtures.ClosedPort.reserve();
        String master = "spark://127.0.0.1:" + port;
        refusedByMaster(master, List.of("error: cannot reach the Spark master " + master + ": 127.0.0.1:" + port
                + " (connection refused); check --master (the Master's log gives the URL it listens on, spark://HOST:PORT)"
                + " and that this machine reaches it\n"));
    }

    /** Sequential mode's storage for the hidden states, named wrong or as nowhere: refused before stage one. */
    @Test
    void aStatesStorageLevelThatIsNoneOrNotSparks() throws Exception {
        for (String level : List.of("MEMORY_SOMETIMES", "none")) {
            Path out = out();
            Cli.Run r = inChildJvm("io.layerscope.cli.Main", List.of("-Dspark.layerscope.sequential.statesStorage=" + level),
                    List.of(demoSweep(out, "--mode", "sequential", "--nsamples", "4", "--seqlen", "64")));
            String output = r.err();
            assertEquals(2, r.status(), output);
            List<String> errors = output.lines().filter(l -> l.startsWith("error: ")).toList();
            assertEquals(List.of("error: spark.layerscope.sequential.statesStorage=" + level + " is not a storage level"
                    + " that keeps the hidden states; use DISK_ONLY (the default), MEMORY_AND_DISK, MEMORY_AND_DISK_SER or"
                    + " another of Spark's StorageLevel names except NONE"), errors, output);
            assertFalse(output.contains("calibration forward"), "stage one ran: " + output);
            assertFalse(Files.exists(out), out + " was created");
        }
    }

    /**
     * A checkpoint directory Spark cannot create (under a regular file): Spark does not start, and the
     * command says so in one paragraph, without the error Spark logs while stopping the half-built context.
     */
    @Test
    void aCheckpointDirectorySparkCannotCreate() throws Exception {
        Path out = out();
        Path file = Files.writeString(Files.createTempFile(tmp, "not-a-directory-", ""), "x");
        Cli.Run r = inChildJvm("io.layerscope.cli.Main", List.of("-Dspark.master=local[2]",
                "-Dspark.checkpoint.dir=" + file.resolve("checkpoints")),
                List.of(demoSweep(out, "--mode", "sequential", "--nsamples", "4", "--seqlen", "64")));
        String output = r.err();
        assertEquals(2, r.status(), output);
        List<String> errors = output.lines().filter(l -> l.startsWith("error: ")).toList();
        assertEquals(List.of("error: Spark did not start with --master local[2] (Parent path is not a directory: " + file
                + "); check --master and the --conf settings"), errors, output);
        assertFalse(output.contains(" ERROR "), output);
        assertFalse(output.contains("calibration forward"), "stage one ran: " + output);
        assertFalse(Files.exists(out), out + " was created");
    }

    /** Sequential mode's blocks between checkpoints of the states, not a whole number: refused before stage one. */
    @Test
    void aCheckpointIntervalThatIsNoNumber() throws Exception {
        Path out = out();
        Cli.Run r = inChildJvm("io.layerscope.cli.Main", List.of("-Dspark.layerscope.sequential.checkpointEvery=four"),
                List.of(demoSweep(out, "--mode", "sequential", "--nsamples", "4", "--seqlen", "64")));
        String output = r.err();
        assertEquals(2, r.status(), output);
        List<String> errors = output.lines().filter(l -> l.startsWith("error: ")).toList();
        assertEquals(List.of("error: spark.layerscope.sequential.checkpointEvery=four is not a number of blocks; use a"
                + " whole number (0 for no checkpoints; 4 by default when spark.checkpoint.dir is set)"), errors, output);
        assertFalse(output.contains("calibration forward"), "stage one ran: " + output);
        assertFalse(Files.exists(out), out + " was created");
    }

    /**
     * An executor that runs another layerscope build than the driver (a node's $SPARK_HOME/jars left at
     * an older jar) refuses its first task, and the job ends with that in one paragraph, nothing kept.
     * Here the driver says it runs another build (the setting is the driver's unless given).
     */
    @Test
    void anExecutorOfAnotherBuildRefusesToWork() throws Exception {
        Path out = out();
        Cli.Run r = inChildJvm("io.layerscope.cli.Main", List.of("-Dspark.master=local[2]",
                "-Dspark.layerscope.driverBuild=0.0.1 built 2020-01-01T00:00:00Z"), List.of(demoSweep(out, "--nsamples", "4",
                "--seqlen", "64")));
        String output = r.err();
        assertEquals(2, r.status(), output);
        List<String> errors = output.lines().filter(l -> l.startsWith("error: ")).toList();
        assertEquals(1, errors.size(), output);
        assertTrue(errors.get(0).matches("error: executor driver on \\S+ runs layerscope \\S+ built \\S+, the driver"
                + " layerscope 0\\.0\\.1 built 2020-01-01T00:00:00Z: every executor must run the driver's jar, or its"
                + " results would be another build's\\. .*"), errors.get(0));
        assertFalse(Files.exists(out), out + " was created");
        assertEquals(List.of(), list(out.getParent()), "left beside " + out);
    }

    /** The places for layers' statistics on a GPU, not a whole number of at least 1: refused before stage one. */
    @Test
    void gpuStatisticsPlacesThatAreNoNumber() throws Exception {
        Path out = out();
        Cli.Run r = inChildJvm("io.layerscope.cli.Main", List.of("-Dspark.layerscope.gpuStatisticsAtOnce=0"),
                List.of(demoSweep(out, "--nsamples", "4", "--seqlen", "64")));
        String output = r.err();
        assertEquals(2, r.status(), output);
        List<String> errors = output.lines().filter(l -> l.startsWith("error: ")).toList();
        assertEquals(List.of("error: spark.layerscope.gpuStatisticsAtOnce=0 is not a number of layers; use a whole number"
                + " of at least 1 (the layers whose statistics a GPU holds at once, about 2.2 GB each; 4 by default)"),
                errors, output);
        assertFalse(output.contains("calibration forward"), "stage one ran: " + output);
        assertFalse(Files.exists(out), out + " was created");
    }

    /**
     * A dense sweep keeps no states, so it ignores that setting, even where it prunes through the
     * sequential stage's code (one-shot pruning with --save-pruned).
     */
    @Test
    void aDenseSweepIgnoresTheStatesStorage() throws Exception {
        Path out = out();
        Path pruned = out.resolveSibling("pruned");
        Cli.Run r = inChildJvm("io.layerscope.cli.Main", List.of("-Dspark.layerscope.sequential.statesStorage=none"),
                List.of(demoSweep(out, "--nsamples", "4", "--seqlen", "64", "--save-pruned", pruned.toString())));
        String output = r.err();
        assertEquals(0, r.status(), output);
        assertTrue(output.lines().noneMatch(l -> l.startsWith("error: ")), output);
        assertTrue(output.contains("one-shot pruning: block 3 of 0..3 written"), output);
        assertTrue(Files.isRegularFile(out.resolve("run.json")), out + " has no run.json");
        assertTrue(Files.isRegularFile(pruned.resolve("config.json")), pruned + " has no config.json");
    }

    /** Runs {@code mainClass} in a JVM of its own with layerscope's logging; its output (both streams) as err. */
    private static Cli.Run inChildJvm(String mainClass, List<String> jvmFlags, List<String> args) throws Exception {
        Path log = Files.createTempFile(tmp, "child-", ".log");
        List<String> flags = new ArrayList<>(List.of(ChildJvm.layerscopeLogging()));
        flags.addAll(jvmFlags);
        Process p = ChildJvm.start(flags, mainClass, args, Map.of(), log);
        ChildJvm.awaitExit(p, 180, mainClass, log);
        return new Cli.Run(p.exitValue(), "", Files.readString(log));
    }

    /** Runs a sweep with {@code master}; its one error line must be one of {@code expected} (status 2, nothing written). */
    private void refusedByMaster(String master, List<String> expected) throws Exception {
        Path out = out();
        Cli.Run r = inChildJvm("io.layerscope.cli.Main", List.of("-Dspark.master=" + master),
                List.of(demoSweep(out, "--nsamples", "4", "--seqlen", "64")));
        String output = r.err();
        assertEquals(2, r.status(), output);
        // Spark's shutdown may log a line after the error; the error itself is one paragraph
        List<String> errors = output.lines().filter(l -> l.startsWith("error: ")).map(l -> l + "\n").toList();
        assertTrue(errors.size() == 1 && expected.contains(errors.get(0)), output);
        assertFalse(output.contains("Error initializing SparkContext"), output);
        assertFalse(Files.exists(out));
        assertEquals(List.of(), list(out.getParent()), "left beside " + out);
    }

    /** An option Spark's own launcher refuses, before layerscope starts: one paragraph, as submit.sh runs it. */
    @Test
    void aSparkOptionTheLauncherRefuses() throws Exception {
        Path out = out();
        List<String> args = new ArrayList<>(List.of("--master", "local[1]", "--executor-memory", "abc", "--class",
                "io.layerscope.cli.Main", "spark-internal"));
        args.addAll(List.of(demoSweep(out, "--nsamples", "4", "--seqlen", "64")));
        Cli.Run r = inChildJvm("io.layerscope.cli.SparkSubmitMain", List.of(), args);
        String output = r.err();   // the JVM's own notice of incubator modules may come first
        assertTrue(output.endsWith("\nerror: Spark refused the options: Executor memory must be a positive number; check"
                + " the Spark options given to submit.sh (--master, --conf, --driver-memory, --executor-memory ...)\n"),
                output);
        assertFalse(output.contains("\tat "), "a stack trace: " + output);
        assertEquals(2, r.status());
        assertEquals(List.of(), list(out.getParent()), "left beside " + out);
    }

    /**
     * The working directory, given as "" or "." with --overwrite, in a JVM of its own started in a
     * scratch directory: were the guard ever lost, it would empty that directory, not the checkout.
     */
    @Test
    void anOverwriteOfTheWorkingDirectoryIsRefused() throws Exception {
        Path cwd = Files.createDirectories(tmp.resolve("working-directory"));
        Files.writeString(cwd.resolve("notes.txt"), "keep me");
        for (String given : List.of("", ".")) {
            Path log = tmp.resolve("working-directory.log");
            ProcessBuilder pb = ChildJvm.builder(List.of(), "io.layerscope.cli.Main", List.of(demoSweep(Path.of(given),
                    "--overwrite")), Map.of(), log).directory(cwd.toFile());
            assertEquals(2, pb.start().waitFor());
            assertEquals(given.isEmpty() ? "error: --out is empty; name the results directory, e.g. --out results/run1\n"
                    : "error: --overwrite refuses to replace --out .: it is the working directory; choose another --out\n",
                    Files.readString(log).replaceAll("(?m)^(?!error: ).*\n", ""));
            assertEquals(List.of("notes.txt"), list(cwd));
        }
    }

    // ---- model directories

    /** A copy of the demo model's files, to break one thing in. */
    private static Path demoCopy(String name) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("models").resolve(name));
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                "special_tokens_map.json")) {
            Files.copy(demo.resolve(f), dir.resolve(f));
        }
        return dir;
    }

    /** As {@link #refused}, and the model directory is left as it was. */
    private static void refusedModel(Path model, String expectedErr) throws IOException {
        TreeSet<String> before = tree(model);
        Path out = out();
        refused(out, expectedErr, modelSweep(model, out));
        assertEquals(before, tree(model), "the model directory changed");
    }

    @Test
    void aModelDirectoryWithoutConfigTokenizerOrWeights() throws IOException {
        Path noConfig = demoCopy("no-config");
        Files.delete(noConfig.resolve("config.json"));
        refusedModel(noConfig, "error: " + noConfig.resolve("config.json") + ": missing; a Hugging Face model directory"
                + " needs config.json\n");

        Path noTokenizer = demoCopy("no-tokenizer");
        Files.delete(noTokenizer.resolve("tokenizer.json"));
        refusedModel(noTokenizer, "error: " + noTokenizer.resolve("tokenizer.json") + ": tokenizer file not found;"
                + " a Hugging Face model directory must hold tokenizer.json (the fast-tokenizer file next to config.json)\n");

        Path noWeights = demoCopy("no-weights");
        Files.delete(noWeights.resolve("model.safetensors"));
        Files.writeString(noWeights.resolve("pytorch_model.bin"), "not read");
        refusedModel(noWeights, "error: " + noWeights + ": no weights found; expected model.safetensors or"
                + " model.safetensors.index.json with its shards (.bin and .pth checkpoints are not read: convert them"
                + " to safetensors)\n");
    }

    @Test
    void aConfigOfAnUnsupportedArchitecture() throws IOException {
        Path gpt2 = demoCopy("gpt2");
        Files.writeString(gpt2.resolve("config.json"), "{\"model_type\": \"gpt2\", \"architectures\": [\"GPT2LMHeadModel\"],"
                + " \"n_embd\": 128, \"n_layer\": 4, \"n_head\": 8, \"vocab_size\": 512}");
        refusedModel(gpt2, "error: " + gpt2.resolve("config.json") + ": model_type \"gpt2\" is not supported; layerscope"
                + " reads LLaMA-family checkpoints (model_type \"llama\")\n");

        Path mistral = demoCopy("mistral");
        Files.writeString(mistral.resolve("config.json"),
                Files.readString(mistral.resolve("config.json")).replace("\"llama\"", "\"mistral\""));
        refusedModel(mistral, "error: " + mistral.resolve("config.json") + ": model_type \"mistral\" is not supported;"
                + " layerscope reads LLaMA-family checkpoints (model_type \"llama\")\n");
    }

    @Test
    void aTruncatedSafetensorsFile() throws IOException {
        Path model = demoCopy("truncated");
        Path file = model.resolve("model.safetensors");
        byte[] whole = Files.readAllBytes(file);
        long headerLength = ByteBuffer.wrap(whole, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        int keep = whole.length / 2;
        Files.write(file, Arrays.copyOf(whole, keep));
        // the first tensor in header order whose data lies past the cut, read from the header here
        long dataBytes = keep - 8 - headerLength;
        JsonNode header = new ObjectMapper().readTree(new String(whole, 8, (int) headerLength, java.nio.charset.StandardCharsets.UTF_8));
        String name = null;
        JsonNode offsets = null;
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext() && name == null; ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getKey().equals("__metadata__") && e.getValue().get("data_offsets").get(1).asLong() > dataBytes) {
                name = e.getKey();
                offsets = e.getValue().get("data_offsets");
            }
        }
        refusedModel(model, "error: " + file + ": tensor " + name + ": data_offsets [" + offsets.get(0).asLong() + ", "
                + offsets.get(1).asLong() + "] lie outside the data section of " + dataBytes + " bytes (file truncated or"
                + " header corrupt)\n");

        // cut inside the header: its stated length no longer fits
        Files.write(file, Arrays.copyOf(whole, 100));
        refusedModel(model, "error: " + file + ": header length " + headerLength + " does not fit the file of 100 bytes"
                + " (truncated or not a safetensors file)\n");
    }

    @Test
    void aCorruptedSafetensorsHeader() throws IOException {
        Path model = demoCopy("corrupted");
        Path file = model.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(file);
        Arrays.fill(bytes, 8, 40, (byte) 0xff);
        Files.write(file, bytes);
        refusedModel(model, "error: " + file + ": header is not valid JSON (Invalid UTF-8 start byte 0xff); the file is"
                + " corrupt or not a safetensors file, download it again\n");
    }

    @Test
    void anIndexNamingAMissingShardOrAShardOutsideTheModelDirectory() throws IOException {
        Path model = demoCopy("sharded");
        Files.move(model.resolve("model.safetensors"), model.resolve("model-00001-of-00002.safetensors"));
        String index = "{\"metadata\": {}, \"weight_map\": {"
                + "\"model.embed_tokens.weight\": \"model-00001-of-00002.safetensors\","
                + " \"model.norm.weight\": \"SHARD\"}}";
        Path indexFile = model.resolve("model.safetensors.index.json");
        Files.writeString(indexFile, index.replace("SHARD", "model-00002-of-00002.safetensors"));
        refusedModel(model, "error: " + indexFile + ": shard model-00002-of-00002.safetensors (for tensor model.norm.weight)"
                + " is missing from " + model + "\n");

        // a real file outside the model directory, reached by ../ or an absolute path: never opened
        Path outside = Files.copy(model.resolve("model-00001-of-00002.safetensors"), tmp.resolve("models/outside.safetensors"));
        Files.writeString(indexFile, index.replace("SHARD", "../outside.safetensors"));
        refusedModel(model, "error: " + indexFile + ": shard \"../outside.safetensors\" for tensor model.norm.weight lies"
                + " outside the model directory; refusing to read it\n");
        Files.writeString(indexFile, index.replace("SHARD", outside.toString()));
        refusedModel(model, "error: " + indexFile + ": shard \"" + outside + "\" for tensor model.norm.weight lies"
                + " outside the model directory; refusing to read it\n");
    }

    /** The demo model with one config.json field replaced by {@code json} (written as given). */
    private static Path demoWithConfig(String name, String field, String json) throws IOException {
        Path model = demoCopy(name);
        ObjectMapper mapper = new ObjectMapper();
        com.fasterxml.jackson.databind.node.ObjectNode config =
                (com.fasterxml.jackson.databind.node.ObjectNode) mapper.readTree(model.resolve("config.json").toFile());
        config.set(field, mapper.readTree(json));
        Files.writeString(model.resolve("config.json"), config.toPrettyString());
        return model;
    }

    @Test
    void aConfigWithAMalformedOrOutOfRangeNumberNamesTheFieldAndValue() throws IOException {
        String[][] cases = {
            {"rms_norm_eps", "\"abc\"", "rms_norm_eps is \"abc\", but it must be a positive finite number"},
            {"rms_norm_eps", "-1e-5", "rms_norm_eps is -1.0E-5, but it must be a positive finite number"},
            {"rope_theta", "0", "rope_theta is 0, but it must be a positive finite number"},
            {"hidden_size", "128.5", "hidden_size is 128.5, but it must be a positive integer"},
            {"max_position_embeddings", "-5", "max_position_embeddings is -5, but it must be a positive integer"},
            {"tie_word_embeddings", "\"true\"", "tie_word_embeddings is \"true\", but it must be true or false"},
            {"rope_scaling", "\"llama3\"", "rope_scaling is \"llama3\", but it must be an object such as {\"rope_type\":"
                + " \"llama3\", \"factor\": 32.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0,"
                + " \"original_max_position_embeddings\": 8192}, or null"},
        };
        int i = 0;
        for (String[] c : cases) {
            Path model = demoWithConfig("config-" + i++, c[0], c[1]);
            refusedModel(model, "error: " + model.resolve("config.json") + ": " + c[2] + "\n");
        }
    }

    @Test
    void configSizesTheWeightsDoNotHaveAreRefusedBeforeAnythingIsAllocated() throws IOException {
        Path layers = demoWithConfig("layers-max", "num_hidden_layers", "2147483647");
        long start = System.nanoTime();
        refusedModel(layers, "error: " + layers + ": config.json gives num_hidden_layers 2147483647 but the weights hold"
                + " blocks 0..3 only (no tensor named model.layers.4.*); the config does not belong to these weights\n");
        assertTrue(System.nanoTime() - start < 30_000_000_000L, "the refusal took more than 30 s");
        Path vocab = demoWithConfig("vocab-large", "vocab_size", "1000");
        refusedModel(vocab, "error: " + vocab.resolve("model.safetensors") + ": tensor model.embed_tokens.weight has shape"
                + " [512, 128] but config.json implies [1000, 128] (vocab_size 1000, hidden_size 128)\n");
    }

    /** The demo model's safetensors with its header replaced by {@code edit} of it (data unchanged). */
    private static void editHeader(Path file, java.util.function.Consumer<com.fasterxml.jackson.databind.node.ObjectNode> edit)
            throws IOException {
        byte[] whole = Files.readAllBytes(file);
        int headerLength = (int) ByteBuffer.wrap(whole, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        com.fasterxml.jackson.databind.node.ObjectNode header = (com.fasterxml.jackson.databind.node.ObjectNode)
                new ObjectMapper().readTree(new String(whole, 8, headerLength, java.nio.charset.StandardCharsets.UTF_8));
        edit.accept(header);
        byte[] h = header.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(8 + h.length + whole.length - 8 - headerLength).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(h.length).put(h).put(whole, 8 + headerLength, whole.length - 8 - headerLength);
        Files.write(file, out.array());
    }

    @Test
    void aTensorWhoseShapeProductOverflowsNamesTheFileAndTensor() throws IOException {
        Path model = demoCopy("shape-overflow");
        Path file = model.resolve("model.safetensors");
        String[] dtype = new String[1];
        editHeader(file, h -> {
            var t = (com.fasterxml.jackson.databind.node.ObjectNode) h.get("model.norm.weight");
            dtype[0] = t.get("dtype").asText();
            t.putArray("shape").add(4294967296L).add(4294967296L);
        });
        refusedModel(model, "error: " + file + ": tensor model.norm.weight: shape [4294967296,4294967296] of dtype " + dtype[0]
                + " has more bytes than any file can hold (the product overflows 64 bits); the header is corrupt or not a"
                + " safetensors header, download the file again\n");
    }

    @Test
    void f64WeightsAreRefusedByListLayersAndBeforeTheSweepStarts() throws IOException {
        Path model = demoCopy("f64");
        Path file = model.resolve("model.safetensors");
        io.layerscope.model.SafetensorsFile stored = io.layerscope.model.SafetensorsFile.open(file);
        io.layerscope.model.SafetensorsWriter w = new io.layerscope.model.SafetensorsWriter();
        for (var t : stored.tensors().values()) {
            float[] v = stored.readFloats(t.name());
            ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
            for (float f : v) {
                b.putDouble(f);
            }
            w.add(t.name(), io.layerscope.model.DType.F64, t.shape(), b.array());
        }
        w.write(file);
        String expected = "error: " + file + ": tensor model.embed_tokens.weight has dtype F64; layerscope loads BF16, F16"
                + " and F32 weights (convert the checkpoint with torch first)\n";
        refusedModel(model, expected);
        Cli.Run r = Cli.run("list-layers", "--model", model.toString());
        assertEquals(expected, r.err());
        assertEquals(2, r.status());
    }

    @Test
    void aTokenizerWithIdsBeyondTheVocabularyIsRefusedBeforeTheSweepStarts() throws IOException {
        Path model = demoCopy("tokenizer-beyond-vocab");
        Path tokenizer = model.resolve("tokenizer.json");
        ObjectMapper mapper = new ObjectMapper();
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) mapper.readTree(tokenizer.toFile());
        ((com.fasterxml.jackson.databind.node.ArrayNode) root.get("added_tokens")).addObject().put("id", 512)
                .put("content", "<|extra|>").put("single_word", false).put("lstrip", false).put("rstrip", false)
                .put("normalized", false).put("special", true);
        Files.writeString(tokenizer, root.toString());
        refusedModel(model, "error: " + tokenizer + ": token \"<|extra|>\" has id 512 (in added_tokens), but the model's"
                + " vocab_size is 512 (config.json), so its ids run 0..511; this tokenizer does not belong to the model:"
                + " use the model's own tokenizer.json\n");
    }

    /**
     * A NaN in block 1's input_layernorm poisons the activations; the message names the tensor and
     * gives no --dtype advice, as the run computed in float32 already. With the sign bit set (the NaN
     * x86 makes of inf - inf) the NaN reaches the residual stream as it is: the depth statistics once
     * died on it with an ArrayIndexOutOfBoundsException before the check could explain it.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aNaNWeightIsNamedAndFloat32IsNotAdvisedToAFloat32Run(boolean negative) throws IOException {
        Path model = demoCopy(negative ? "negative-nan-weight" : "nan-weight");
        Path file = model.resolve("model.safetensors");
        var t = io.layerscope.model.SafetensorsFile.open(file).tensor("model.layers.1.input_layernorm.weight");
        try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
            ByteBuffer nan = ByteBuffer.allocate(t.dtype().bytes()).order(ByteOrder.LITTLE_ENDIAN);
            switch (t.dtype()) {
                case F32 -> nan.putInt(negative ? 0xffc00000 : 0x7fc00000);
                case BF16 -> nan.putShort((short) (negative ? 0xffc0 : 0x7fc0));
                case F16 -> nan.putShort((short) (negative ? 0xfe00 : 0x7e00));
                default -> throw new AssertionError(t.dtype());
            }
            ch.write(nan.flip(), t.begin() + 5L * t.dtype().bytes());
        }
        refusedModel(model, "error: " + file + ": tensor model.layers.1.input_layernorm.weight holds NaN at [5], the first"
                + " non-finite weight the calibration forward pass used, so scaler_row[5] of the input of"
                + " model.layers.1.self_attn.q_proj is NaN. The checkpoint file is damaged or was saved from a diverged"
                + " model: download it again or check its source.\n");
    }

    // ---- calibration data

    private static void refusedCalibration(Path file, String expectedMessage, String... more) throws IOException {
        Path out = out();
        List<String> args = new ArrayList<>(List.of(demoSweep(out, "--calibration", file.toString())));
        args.addAll(List.of(more));
        if (!args.contains("--seqlen")) {
            args.addAll(List.of("--nsamples", "4", "--seqlen", "64"));
        }
        refused(out, "error: " + expectedMessage + "\n", args.toArray(new String[0]));
    }

    @Test
    void calibrationFileMissingEmptyNotGzipOrTruncated() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("calibration"));
        List<String> texts = C4Fixtures.texts(40, 7, 100, 200);
        refusedCalibration(dir.resolve("absent.json.gz"), "--calibration " + dir.resolve("absent.json.gz")
                + ": no such file or directory (expected c4, c4:N, demo, or a C4-format .json.gz/.jsonl file or directory)");

        Path emptyGz = Files.write(dir.resolve("empty.json.gz"), new byte[0]);
        refusedCalibration(emptyGz, emptyGz + ": unexpected end of gzip stream before the first complete line (the file"
                + " is truncated, e.g. by an interrupted download); delete it and download it again");
        Path emptyJsonl = Files.write(dir.resolve("empty.jsonl"), new byte[0]);
        refusedCalibration(emptyJsonl, "no calibration documents in " + emptyJsonl + ": the input holds only blank lines;"
                + " use a C4 shard or another non-empty JSON-lines file");

        Path plain = C4Fixtures.writeNotGzip(dir.resolve("plain.json.gz"), texts);
        refusedCalibration(plain, plain + ": not a gzip file although its name ends in .gz (it does not start with the gzip"
                + " signature 1f 8b); download it again, or give an uncompressed JSON-lines file a .json or .jsonl name");

        // cut where the first two lines are whole (their compressed bytes end well before the cut)
        byte[] shard = C4Fixtures.shardBytes(texts);
        int cut = shard.length / 2;
        Path truncated = C4Fixtures.writeTruncatedShard(dir.resolve("truncated.json.gz"), texts, cut);
        int wholeLines = wholeLinesBefore(shard, cut);
        refusedCalibration(truncated, truncated + ": unexpected end of gzip stream after line " + wholeLines
                + ", the last complete line (the file is truncated, e.g. by an interrupted download); delete it and"
                + " download it again");
    }

    @Test
    void calibrationThatIsNotARegularFileOrHasGarbageAfterTheGzipDataOrAnOverlongString() throws IOException {
        refusedCalibration(Path.of("/dev/zero"), "/dev/zero: not a regular file (a device, pipe or socket), so not C4 JSON"
                + " lines; --calibration takes .json.gz/.jsonl files in C4 format or a directory of them");

        Path dir = Files.createDirectories(tmp.resolve("calibration-trailing"));
        List<String> texts = C4Fixtures.texts(40, 7, 100, 200);
        byte[] shard = C4Fixtures.shardBytes(texts);
        byte[] appended = Arrays.copyOf(shard, shard.length + 8);
        System.arraycopy("garbage\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, appended, shard.length, 8);
        Path garbage = Files.write(dir.resolve("appended.json.gz"), appended);
        refusedCalibration(garbage, garbage + ": bytes that are not gzip (67 61 72 62 ...) follow the end of the gzip data,"
                + " after line 40; the file is corrupt or something was appended to it (Python's gzip refuses it too):"
                + " delete it and download it again");

        Path longLine = dir.resolve("long.jsonl");
        try (var w = Files.newBufferedWriter(longLine)) {
            w.write("{\"text\": \"");
            char[] block = new char[1 << 20];
            Arrays.fill(block, 'a');
            for (int i = 0; i < 20; i++) {
                w.write(block);
            }
            w.write("\"}\n");
        }
        refusedCalibration(longLine, longLine + ", line 1: holds a JSON string longer than 20000000 characters, the longest"
                + " layerscope reads (a C4 document is a few kB); split the text over several lines");
    }

    /** Lines a gzip reader gets whole from the first {@code cut} bytes of {@code gz}, counted here with java.util.zip. */
    private static int wholeLinesBefore(byte[] gz, int cut) throws IOException {
        int lines = 0;
        try (var in = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(Arrays.copyOf(gz, cut)))) {
            for (int b = in.read(); b >= 0; b = in.read()) {
                lines += b == '\n' ? 1 : 0;
            }
        } catch (java.io.EOFException expected) {
            return lines;
        }
        throw new AssertionError("the cut shard read to its end");
    }

    @Test
    void calibrationLinesThatAreNotJsonOrHaveNoText() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("calibration-lines"));
        List<String> texts = C4Fixtures.texts(40, 7, 100, 200);
        Path badJson = C4Fixtures.writeShardWithBadJsonLine(dir.resolve("bad-json.json.gz"), texts, 3);
        refusedCalibration(badJson, badJson + ", line 3: not valid JSON (Unexpected end-of-input: was expecting closing"
                + " quote for a string value); every line must be one JSON object with a \"text\" string, as in C4");
        Path noText = C4Fixtures.writeShardWithoutText(dir.resolve("no-text.json.gz"), texts, 4);
        refusedCalibration(noText, noText + ", line 4: no \"text\" field; every line must be one JSON object with a"
                + " \"text\" string, as in C4");
    }

    @Test
    void noCalibrationDocumentLongerThanSeqlen() throws IOException {
        // one document, the single character "a": BOS + one byte-level token = 2 tokens
        Path shard = C4Fixtures.writeShard(tmp.resolve("calibration-short/a.json.gz"), List.of("a"));
        refusedCalibration(shard, "no calibration document is longer than seqlen=64 tokens (longest: 2 tokens in"
                + " document 0); use a smaller --seqlen or more data", "--nsamples", "4", "--seqlen", "64");
    }

    /** A run that fails after its --overwrite was accepted says the earlier results are still there, as they are. */
    @Test
    void aFailedOverwriteSaysTheEarlierResultsAreUnchanged() throws IOException {
        Path earlier = Files.createDirectories(tmp.resolve("failed-overwrite/earlier-run/layers.parquet")).getParent();
        Files.writeString(earlier.resolve("run.json"), "{\"tool\": \"layerscope\"}");
        TreeSet<String> before = tree(earlier);
        Path shard = C4Fixtures.writeShard(tmp.resolve("calibration-short-overwrite/a.json.gz"), List.of("a"));
        Cli.Run r = Cli.run(demoSweep(earlier, "--overwrite", "--calibration", shard.toString(), "--nsamples", "4",
                "--seqlen", "64"));
        assertEquals(2, r.status(), r.err());
        assertEquals(List.of("error: no calibration document is longer than seqlen=64 tokens (longest: 2 tokens in document 0);"
                + " use a smaller --seqlen or more data", "note: the earlier results in " + earlier + " are unchanged"),
                r.err().lines().filter(l -> l.startsWith("error: ") || l.startsWith("note: ")).toList(), r.err());
        assertEquals(before, tree(earlier));
        assertEquals(List.of("earlier-run"), list(earlier.getParent()), "nothing beside it (lock, staging)");
    }

    // ---- query

    @Test
    void queryOfAMissingOrForeignDirectoryOrAnUnknownTable() throws IOException {
        Path missing = tmp.resolve("no-such-results");
        Cli.Run r = Cli.run("query", "--results", missing.toString(), "SELECT * FROM layers");
        assertEquals(2, r.status());
        assertEquals("error: results directory " + missing + " does not exist; give the --out directory of a sweep or"
                + " layer job\n", r.err());
        assertFalse(Files.exists(missing));

        Path foreign = Files.createDirectories(tmp.resolve("foreign"));
        Files.writeString(foreign.resolve("notes.txt"), "not results");
        r = Cli.run("query", "--results", foreign.toString(), "SELECT * FROM layers");
        assertEquals(2, r.status());
        assertEquals("error: " + foreign + " is not a layerscope results directory (expected run.json and layers.parquet;"
                + " give the --out directory of a sweep or layer job)\n", r.err());
        assertEquals(List.of("notes.txt"), list(foreign));

        Path results = ReferenceSweep.dir();
        TreeSet<String> before = tree(results);
        r = Cli.run("query", "--results", results.toString(), "SELECT * FROM nosuch");
        assertEquals(2, r.status());
        assertEquals("error: query failed: no table or view named `nosuch` (line 1, position 14). The tables are:"
                + " activation_norms, block_distances, blocks, calibration, layers, outlier_features, super_weights.\n", r.err());
        assertEquals(before, tree(results));
    }

    /** A query refused: status 2, exactly {@code expectedErr}, nothing on standard output, the results unchanged. */
    private static void queryRefused(Path results, String expectedErr, String... args) throws IOException {
        TreeSet<String> before = tree(results);
        Cli.Run r = Cli.run(args);
        assertEquals(expectedErr, r.err());
        assertEquals(2, r.status());
        assertEquals("", r.out());
        assertEquals(before, tree(results), "the results changed");
    }

    private static String readOnly(String what) {
        return "error: query only reads, and this statement " + what + "; nothing was run. Use SELECT (or WITH, VALUES,"
                + " TABLE, DESCRIBE, SHOW TABLES/VIEWS/COLUMNS/FUNCTIONS, EXPLAIN) over the results, or pass --allow-writes to run it as Spark would\n";
    }

    @Test
    void aQueryThatWouldWriteOrChangeStateIsRefused() throws IOException {
        Path results = ReferenceSweep.dir();
        String r = results.toString();
        queryRefused(results, readOnly("writes or changes state (Spark plans it as InsertIntoStatement)"),
                "query", "--results", r, "INSERT INTO layers SELECT * FROM layers");
        Path victim = Files.createDirectories(tmp.resolve("query-victim"));
        Files.writeString(victim.resolve("notes.txt"), "keep me");
        queryRefused(results, readOnly("writes or changes state (Spark plans it as InsertIntoDir)"),
                "query", "--results", r, "INSERT OVERWRITE DIRECTORY '" + victim + "' USING parquet SELECT * FROM layers");
        assertEquals(List.of("notes.txt"), list(victim));
        Path table = tmp.resolve("query-table");
        queryRefused(results, readOnly("writes or changes state (Spark plans it as CreateTableAsSelect)"),
                "query", "--results", r, "CREATE TABLE t USING parquet LOCATION '" + table + "' AS SELECT 1 AS x");
        assertFalse(Files.exists(table));
        queryRefused(results, readOnly("writes or changes state (Spark plans it as DropView)"),
                "query", "--results", r, "DROP VIEW layers");
        queryRefused(results, readOnly("writes or changes state (Spark plans it as CacheTable)"),
                "query", "--results", r, "CACHE TABLE layers");
        queryRefused(results, readOnly("writes or changes state (Spark plans it as AddJarsCommand)"),
                "query", "--results", r, "ADD JAR /tmp/x.jar");
        queryRefused(results, readOnly("writes or changes state (Spark plans it as SetCommand)"),
                "query", "--results", r, "SET spark.sql.ansi.enabled=false");
        Path ran = tmp.resolve("query-transform-ran");
        queryRefused(results, readOnly("runs a program (TRANSFORM ... USING)"),
                "query", "--results", r, "SELECT TRANSFORM(layer) USING 'touch " + ran + "' FROM layers");
        assertFalse(Files.exists(ran));
        queryRefused(results, readOnly("calls Java methods (reflect)"),
                "query", "--results", r, "SELECT reflect('java.lang.System', 'getenv', 'HOME') FROM layers");
    }

    /**
     * In a JVM of its own, started in an empty directory with its own java.io.tmpdir: SHOW TABLES
     * makes Spark create its catalog's warehouse, which goes to a temporary directory deleted at
     * exit, not to spark-warehouse/ in the working directory.
     */
    @Test
    void aQueryLeavesNoWarehouseInTheWorkingOrTemporaryDirectory() throws Exception {
        Path cwd = Files.createDirectories(tmp.resolve("query-cwd"));
        Path javaTmp = Files.createDirectories(tmp.resolve("query-java-tmp"));
        Path log = tmp.resolve("query-cwd.log");
        ProcessBuilder pb = ChildJvm.builder(List.of("-Djava.io.tmpdir=" + javaTmp, "-Dspark.local.dir=" + javaTmp),
                "io.layerscope.cli.Main", List.of("query", "--results", ReferenceSweep.dir().toString(), "--format", "csv",
                "SHOW TABLES"), Map.of(), log).directory(cwd.toFile());
        assertEquals(0, pb.start().waitFor(), Files.readString(log));
        assertEquals(true, Files.readString(log).contains(",layers,true"), Files.readString(log));
        assertEquals(List.of(), list(cwd));
        assertEquals(List.of(), list(javaTmp));
    }

    @Test
    void sqlErrorsOfTheDataAreOneParagraphWithNothingOnStandardOutput() throws IOException {
        Path results = ReferenceSweep.dir();
        String r = results.toString();
        queryRefused(results, "error: query failed at line 1, position 15: [DIVIDE_BY_ZERO] Division by zero. Use"
                + " `try_divide` to tolerate divisor being 0 and return NULL instead. If necessary set"
                + " \"spark.sql.ansi.enabled\" to \"false\" to bypass this error.\n",
                "query", "--results", r, "--format", "csv", "SELECT layer, in_features / (block - block) AS x FROM layers");
        queryRefused(results, "error: query failed at line 1, position 8: [CAST_INVALID_INPUT] The value"
                + " 'model.layers.0.self_attn.q_proj' of the type \"STRING\" cannot be cast to \"INT\" because it is"
                + " malformed. Correct the value as per the syntax, or change its target type. Use `try_cast` to tolerate"
                + " malformed input and return NULL instead.\n",
                "query", "--results", r, "--format", "json", "SELECT CAST(layer AS INT) AS n FROM layers ORDER BY layer DESC");
    }

    @Test
    void aDamagedParquetFileIsNamed() throws IOException {
        Path results = tmp.resolve("query-damaged");
        copyTree(ReferenceSweep.dir(), results);
        Path part;
        try (Stream<Path> s = Files.list(results.resolve("activation_norms.parquet"))) {
            part = s.filter(p -> p.getFileName().toString().endsWith(".parquet")).sorted().findFirst().orElseThrow();
        }
        byte[] bytes = Files.readAllBytes(part);
        // the first half, then eight zero bytes where a footer's length and magic number would be: a damage
        // every Parquet version names the same way (halved data alone may read as an absurd footer length)
        byte[] half = Arrays.copyOf(bytes, bytes.length / 2 + 8);
        Arrays.fill(half, bytes.length / 2, half.length, (byte) 0);
        Files.write(part, half);
        Files.deleteIfExists(part.resolveSibling("." + part.getFileName() + ".crc"));
        queryRefused(results, "error: cannot read " + part + " (it is not a Parquet file. Expected magic number at tail,"
                + " but found " + Arrays.toString(Arrays.copyOfRange(half, half.length - 4, half.length)) + "): the results are damaged (a file truncated or changed after it was written); run"
                + " the job again into a new --out, or leave that directory out of --results\n",
                "query", "--results", results.toString(), "--format", "csv", "SELECT count(*) FROM activation_norms");
    }

    /**
     * A table file gone between the query's listing and its reading, as when a sweep with --overwrite
     * replaces the directory meanwhile: told as that, not as damage.
     */
    @Test
    void aTableFileGoneWhileAQueryRunsIsNotCalledDamaged() throws IOException {
        Path results = tmp.resolve("query-replaced");
        copyTree(ReferenceSweep.dir(), results);
        org.apache.spark.sql.SparkSession spark = io.layerscope.spark.SparkSessions.getOrCreate("test");
        io.layerscope.spark.ResultsQuery.Views views = io.layerscope.spark.ResultsQuery.views(spark, List.of(results));
        views.names().forEach(views::register);
        Path part;
        try (Stream<Path> s = Files.list(results.resolve("activation_norms.parquet"))) {
            part = s.filter(p -> p.getFileName().toString().endsWith(".parquet")).sorted().findFirst().orElseThrow();
        }
        Files.delete(part);
        Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> io.layerscope.spark.ResultsQuery
                .sql(spark, "SELECT count(*) FROM activation_norms", views.names()).collectAsList());
        assertEquals("cannot read " + part + ": it is gone since the query listed the tables; its results directory was"
                + " replaced or removed while the query ran (by a job with --overwrite?); run the query again",
                io.layerscope.spark.ResultsQuery.userError(e).orElseThrow().getMessage());
    }

    @Test
    void theSameResultsDirectoryTwice() throws IOException {
        Path results = ReferenceSweep.dir();
        queryRefused(results, "error: --results " + results + " is given twice; give each results directory once (its rows"
                + " would be counted twice)\n", "query", "--results", results.toString(), "--results", results.toString(),
                "SELECT count(*) FROM layers");
        Path link = Files.createSymbolicLink(tmp.resolve("query-link"), results);
        queryRefused(results, "error: --results " + link + " is the same directory as --results " + results + " ("
                + results.toRealPath() + "); give each results directory once (its rows would be counted twice)\n",
                "query", "--results", results.toString(), "--results", link.toString(), "SELECT count(*) FROM layers");
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }

    // ---- where the results go

    @Test
    void anOutputDirectoryThatIsNotWritable() throws Exception {
        Path parent = Files.createDirectories(tmp.resolve("read-only"));
        boolean root = TestRequirements.isRoot();
        if (root) {
            // root writes through permission bits: a read-only file system stops it
            assumeTrue(Mounts.tmpfs(parent, "ro,size=64k"), "cannot mount a read-only tmpfs here");
        } else {
            Files.setPosixFilePermissions(parent, PosixFilePermissions.fromString("r-xr-xr-x"));
        }
        try {
            Path out = parent.resolve("results");
            refused(out, "error: cannot write the results to " + out + ": directory " + parent + " is not writable; choose"
                    + " another --out\n", demoSweep(out, "--nsamples", "4", "--seqlen", "64"));
        } finally {
            if (root) {
                Mounts.unmount(parent);
            } else {
                Files.setPosixFilePermissions(parent, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
        }
    }

    @Test
    void aDiskThatFillsUpWhileTheResultsAreWritten() throws Exception {
        // 64 kB: the staging directory and the first Parquet files fit, the tables (about 120 kB) do not
        onA64kDisk("small-disk", disk -> {
            Path out = disk.resolve("results");
            refused(out, "error: cannot write the results to " + out + " (No space left on device); nothing was kept;"
                    + " free space there or choose another --out\n", demoSweep(out, "--nsamples", "8", "--seqlen", "64"));
        });
    }

    /** The pruned model's disk fills up while the rounds write its block files: told as the results' is, not as unexpected. */
    @Test
    void aDiskThatFillsUpUnderThePrunedModel() throws Exception {
        // 64 kB: the demo model's block files (about 240 kB in bf16) do not fit
        onA64kDisk("small-pruned-disk", disk -> {
            Path out = out();
            Path pruned = disk.resolve("pruned");
            refused(out, "error: cannot write the pruned model to " + pruned + " (No space left on device); nothing was"
                    + " kept; free space there or choose another --save-pruned\n", demoSweep(out, "--mode", "sequential",
                    "--save-pruned", pruned.toString(), "--nsamples", "4", "--seqlen", "64"));
            assertEquals(List.of(), list(disk), "left on the small disk");
        });
    }

    private interface OnDisk {
        void run(Path disk) throws Exception;
    }

    /** A layer job without --out writes its picture into the working directory: one it cannot write is refused at once. */
    @Test
    void aLayerJobWithoutOutInAReadOnlyWorkingDirectory() throws Exception {
        Path cwd = Files.createDirectories(tmp.resolve("read-only-cwd"));
        TestRequirements.root("mount a read-only tmpfs (root writes through permission bits)");
        assumeTrue(Mounts.tmpfs(cwd, "ro,size=64k"), "cannot mount a read-only tmpfs here");
        try {
            Path log = tmp.resolve("read-only-cwd.log");
            ProcessBuilder pb = ChildJvm.builder(List.of(), "io.layerscope.cli.Main", List.of("layer", "--model", "demo",
                    "--cache-dir", cache.toString(), "--layer", "model.layers.0.mlp.up_proj", "--nsamples", "4", "--seqlen",
                    "64"), Map.of(), log).directory(cwd.toFile());
            assertEquals(2, pb.start().waitFor());
            String err = Files.readString(log);
            assertEquals(List.of("error: cannot write the picture to " + cwd + ": " + cwd + " is not a writable directory;"
                    + " run from a writable directory, or pass --out DIR"), err.lines().filter(l -> l.startsWith("error: ")).toList(), err);
            assertFalse(err.contains("stage 1"), "refused before the forward: " + err);
        } finally {
            Mounts.unmount(cwd);
        }
    }

    /** Runs {@code test} on a 64 kB tmpfs mounted for it (as root; skipped where it cannot be mounted; the Hadoop-level test remains). */
    private void onA64kDisk(String name, OnDisk test) throws Exception {
        Path disk = Files.createDirectories(tmp.resolve(name));
        TestRequirements.root("mount a 64 kB tmpfs as a disk that fills up (the Hadoop-level test remains)");
        assumeTrue(Mounts.tmpfs(disk, "size=64k"), "cannot mount a tmpfs here; the Hadoop-level test remains");
        try {
            test.run(disk);
        } finally {
            Mounts.unmount(disk);
        }
    }

    /** A result size limit too small for stage two's pictures: Spark's job failure, told as the setting to raise. */
    @Test
    void aResultSizeLimitTheResultsOutgrow() throws Exception {
        TestSessions.start("local[2]", Map.of("spark.driver.maxResultSize", "1m"));
        try {
            Path out = out();
            Cli.Run r = Cli.run("sweep", "--model", "demo", "--cache-dir", cache.toString(), "--nsamples", "4", "--seqlen",
                    "64", "--out", out.toString());
            assertTrue(r.err().matches("error: the results the executors sent the driver in one Spark job \\(\\d+\\.\\d"
                    + " [KM]iB from \\d+ tasks? so far\\) exceed spark\\.driver\\.maxResultSize \\(1024\\.0 KiB\\); raise it, e\\.g\\."
                    + " --conf spark\\.driver\\.maxResultSize=4g \\(0: no limit\\), and give the driver the memory to hold"
                    + " them \\(--driver-memory; docs/CLUSTER\\.md lists what a sweep sends per shard and per layer\\)\n"), r.err());
            assertEquals(2, r.status());
            assertEquals("", r.out());
            assertFalse(Files.exists(out), out + " was created");
            assertEquals(List.of(), list(out.getParent()), "left beside " + out);
        } finally {
            TestSessions.stop();   // later tests get a session without the limit
        }
    }

    @Test
    void aDiskThatFillsUpUnderTheParquetWriter() throws Exception {
        TestSessions.start("local[2]", Map.of(
                "spark.hadoop.fs.file.impl", FullDiskFileSystem.class.getName(),
                "spark.hadoop.fs.file.impl.disable.cache", "true"));
        FullDiskFileSystem.reset();
        try {
            Path out = out();
            refused(out, "error: cannot write the results to " + out + " (No space left on device); nothing was kept;"
                    + " free space there or choose another --out\n", demoSweep(out, "--nsamples", "8", "--seqlen", "64"));
        } finally {
            TestSessions.stop();   // later tests get a session with the ordinary file system
        }
    }

    private static List<String> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static TreeSet<String> tree(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            TreeSet<String> all = new TreeSet<>();
            s.forEach(p -> all.add(root.relativize(p) + (Files.isRegularFile(p) ? " " + p.toFile().length() : "")));
            return all;
        }
    }
}
