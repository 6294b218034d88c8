package io.layerscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.LayerscopeException;
import io.layerscope.fixtures.Llama1bShapedCheckpoint;
import io.layerscope.fixtures.ProcessCounters;
import io.layerscope.fixtures.TestEnvironment;
import io.layerscope.spark.Setbacks;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;

class MainTest {
    @TempDir
    static Path tmp;

    static Path oneB;
    static Path cache;

    record Run(int status, String out, String err) {
    }

    @BeforeAll
    static void fixtures() throws Exception {
        oneB = Llama1bShapedCheckpoint.write(tmp.resolve("1b"));
        cache = tmp.resolve("cache");
    }

    static Run run(CommandLine cl, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int status = cl.execute(args);
        return new Run(status, out.toString(), err.toString());
    }

    /** Tests never touch the network: the Hugging Face settings say offline. */
    static final Map<String, String> OFFLINE = TestEnvironment.offline();

    static Run run(String... args) {
        return run(Main.commandLine(OFFLINE), args);
    }

    @Test
    void sqlBeginningWithACommentIsToldHowToPassIt() {
        Run r = run("query", "--results", "nowhere", "-- outliers by depth\nSELECT 1");
        assertEquals(2, r.status());
        assertEquals("", r.out());
        assertEquals("error: Unknown option: '-- outliers by depth SELECT 1'\n"
                + "SQL that begins with a comment (--) reads as an option: put -- before it (query --results DIR -- \"SQL\"),"
                + " or give the file with -f FILE.\n"
                + "Try 'layerscope query --help' for more information.\n", r.err());
    }

    @Test
    void everyCommandPrintsTheVersion() {
        Run top = run("-V");
        assertEquals(0, top.status());
        assertTrue(top.out().startsWith("layerscope "), top.out());
        // each command's help lists -V: it printed nothing before the commands had the version provider
        for (String command : List.of("sweep", "layer", "query", "list-layers", "layer-types", "completion")) {
            for (String flag : List.of("-V", "--version")) {
                Run r = run(command, flag);
                assertEquals(0, r.status(), command + " " + flag);
                assertEquals(top.out(), r.out(), command + " " + flag);
                assertEquals("", r.err(), command + " " + flag);
            }
        }
    }

    @Test
    void knowsWhenItRunsInsideYarnsApplicationMaster() {
        // the system properties Spark's ApplicationMaster sets before it starts main in cluster deploy mode
        java.util.Properties am = new java.util.Properties();
        am.setProperty("spark.master", "yarn");
        am.setProperty("spark.submit.deployMode", "cluster");
        am.setProperty("spark.yarn.app.id", "application_1_0001");
        assertTrue(Main.insideYarnApplicationMaster(am));
        for (String[] other : new String[][] {{"spark.submit.deployMode", "client"}, {"spark.master", "spark://h:7077"},
            {"spark.master", "k8s://https://api:6443"}}) {
            java.util.Properties p = (java.util.Properties) am.clone();
            p.setProperty(other[0], other[1]);
            assertFalse(Main.insideYarnApplicationMaster(p), String.join("=", other));
        }
        java.util.Properties noApp = (java.util.Properties) am.clone();
        noApp.remove("spark.yarn.app.id");
        assertFalse(Main.insideYarnApplicationMaster(noApp));
        assertFalse(Main.insideYarnApplicationMaster(new java.util.Properties()));
        assertEquals("layerscope ended with status 2; its error is in the driver's log: yarn logs -applicationId"
                + " application_1_0001 (the stderr of the ApplicationMaster's container)",
                new Main.DriverFailed(2, "application_1_0001").getMessage());
    }

    @Test
    void listingsOfA1bShapedCheckpointReadNoWeights() throws Exception {
        run("list-layers", "--model", oneB.toString()); // warm up class loading
        long before = ProcessCounters.bytesRead();
        Run types = run("layer-types", "--model", oneB.toString());
        Run layers = run("list-layers", "--model", oneB.toString());
        long read = ProcessCounters.bytesRead() - before;
        assertEquals(0, types.status(), types.err());
        assertEquals(0, layers.status(), layers.err());
        assertTrue(types.out().contains("\nLinear                  113  model.layers.0.self_attn.q_proj\n"), types.out());
        assertTrue(layers.out().startsWith("Prunable Linear layers of " + oneB + ": 113\n"), layers.out());
        assertEquals("", types.err() + layers.err());
        // the file is 2.47 GB; both commands together read a few header bytes (16 kB of JSON) and config.json
        if (read >= 0) {
            assertTrue(read < 1_000_000, read + " bytes read");
        }
    }

    @Test
    void listingsOfTheDemoModel() {
        Run types = run("layer-types", "--model", "demo", "--cache_dir", cache.toString());
        assertEquals(0, types.status(), types.err());
        assertEquals("""
                Module types of demo (LlamaForCausalLM, as named_modules() lists them):

                Type                  Count  Example
                LlamaForCausalLM          1  (the model itself)
                LlamaModel                1  model
                Embedding                 1  model.embed_tokens
                ModuleList                1  model.layers
                LlamaDecoderLayer         4  model.layers.0
                LlamaAttention            4  model.layers.0.self_attn
                Linear                   29  model.layers.0.self_attn.q_proj
                LlamaMLP                  4  model.layers.0.mlp
                SiLU                      4  model.layers.0.mlp.act_fn
                LlamaRMSNorm              9  model.layers.0.input_layernorm
                LlamaRotaryEmbedding      1  model.rotary_emb

                11 module types, 59 modules.
                """, types.out());

        Run layers = run("list-layers", "--model", "demo", "--cache-dir", cache.toString());
        assertEquals(0, layers.status(), layers.err());
        // 29 layers: positions 0, 7 (block 1 q_proj) and 14 (block 2 q_proj)
        StringBuilder expected = new StringBuilder("Prunable Linear layers of demo: 29\n\n");
        String[][] kinds = {{"Attention Q Projection", "self_attn.q_proj"}, {"Attention K Projection", "self_attn.k_proj"},
            {"Attention V Projection", "self_attn.v_proj"}, {"Attention Output Projection", "self_attn.o_proj"},
            {"MLP Gate Projection", "mlp.gate_proj"}, {"MLP Up Projection", "mlp.up_proj"}, {"MLP Down Projection", "mlp.down_proj"}};
        for (String[] k : kinds) {
            expected.append(k[0]).append(" (4 layers):\n");
            for (int b = 0; b < 4; b++) {
                expected.append("  model.layers.").append(b).append('.').append(k[1]).append('\n');
            }
            expected.append('\n');
        }
        expected.append("Language Model Head (1 layer):\n  lm_head\n\n");
        expected.append("Example commands for the single-layer job:\n");
        for (int b : new int[] {0, 1, 2}) {
            expected.append("  ./submit.sh layer --model demo --layer model.layers.").append(b)
                    .append(".self_attn.q_proj --cache-dir ").append(cache).append('\n');
        }
        assertEquals(expected.toString(), layers.out());

        // a cache dir means nothing to a local directory; a revision nothing to it or the demo model, which
        // would ignore it, so it is refused
        Run local = run("list-layers", "--model", oneB.toString(), "--cache-dir", cache.toString());
        assertTrue(local.out().endsWith("--layer model.layers.8.self_attn.q_proj\n"), local.out());
        Run demoRev = run("list-layers", "--model", "demo", "--cache-dir", cache.toString(), "--revision", "dev");
        assertEquals(2, demoRev.status());
        assertEquals("error: --revision dev picks a version of a Hugging Face repo id, but --model demo is generated here;"
                + " drop --revision\n", demoRev.err());
        Run localRev = run("list-layers", "--model", oneB.toString(), "--revision", "main");
        assertEquals(2, localRev.status());
        assertEquals("error: --revision main picks a version of a Hugging Face repo id, but --model " + oneB + " is a local"
                + " directory, whose files are used as they are; drop --revision\n", localRev.err());
    }

    @Test
    void exampleCommandsForACachedRepoRepeatCacheDirAndRevision() throws Exception {
        String commit = "4e20de362430cd3b72f300e6b0f18e50e7166e08";
        Path repo = tmp.resolve("hf").resolve("models--meta-llama--Llama-3.2-1B");
        Path snap = Files.createDirectories(repo.resolve("snapshots").resolve(commit));
        for (String f : new String[] {"config.json", "model.safetensors"}) {
            Files.createSymbolicLink(snap.resolve(f), oneB.resolve(f));
        }
        Files.createDirectories(repo.resolve("refs"));
        Files.writeString(repo.resolve("refs/v2"), commit);
        Run r = run("list-layers", "--model", "meta-llama/Llama-3.2-1B", "--cache-dir", tmp.resolve("hf").toString(),
                "--revision", "v2");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().endsWith("  ./submit.sh layer --model meta-llama/Llama-3.2-1B --layer model.layers.8.self_attn.q_proj"
                + " --cache-dir " + tmp.resolve("hf") + " --revision v2\n"), r.out());
    }

    @Test
    void badInputIsOneParagraphOnStandardErrorWithStatus2() {
        Run r = run("list-layers", "--model", "./no/such/model");
        assertEquals(2, r.status());
        assertEquals("", r.out());
        assertEquals("error: --model ./no/such/model: no such directory, and not a Hugging Face repo id (org/name);"
                + " pass a model directory, a repo id such as meta-llama/Llama-3.2-1B, or demo\n", r.err());
    }

    /** The model given as a word, as Python tools often take it: the message says to name it with --model. */
    @Test
    void aModelGivenAsAWordIsToldToUseModel() {
        refused("error: sweep takes no positional arguments, but was given 'demo'; a model is named with --model, e.g."
                + " --model demo\nTry 'layerscope sweep --help' for more information.\n", "sweep", "demo");
        refused("error: list-layers takes no positional arguments, but was given 'meta-llama/Llama-3.2-1B'; a model is"
                + " named with --model, e.g. --model meta-llama/Llama-3.2-1B\nTry 'layerscope list-layers --help' for more"
                + " information.\n", "list-layers", "meta-llama/Llama-3.2-1B");
    }

    /** Runs the command; asserts status 2, nothing on standard output and exactly {@code err} on standard error. */
    private static void refused(String err, String... args) {
        Run r = run(args);
        assertEquals(2, r.status(), r.err());
        assertEquals("", r.out());
        assertEquals(err, r.err());
    }

    /**
     * Each output is moved into place whole at the end: one inside another would fail only then, the
     * run's work lost. Refused before anything is written.
     */
    @Test
    void outputsInsideEachOtherAreRefusedBeforeAnythingIsWritten() {
        Path hf = tmp.resolve("nested-hf");
        Path out = tmp.resolve("nested");
        String[] demo = {"sweep", "--model", "demo", "--cache-dir", hf.toString()};
        Path pruned = out.resolve("pruned");
        refused("error: --save-pruned " + pruned + " is inside --out " + out + ", which the run writes as a whole and"
                + " moves into place at the end; give --save-pruned a place of its own\n",
                concat(demo, "--out", out.toString(), "--save-pruned", pruned.toString()));
        Path inner = out.resolve("results");
        refused("error: --out " + inner + " is inside --save-pruned " + out + ", which the run writes as a whole and"
                + " moves into place at the end; give --out a place of its own\n",
                concat(demo, "--out", inner.toString(), "--save-pruned", out.toString()));
        Path imatrix = out.resolve("imatrix.gguf");
        refused("error: --imatrix " + imatrix + " is inside --out " + out + ", which the run writes as a whole and"
                + " moves into place at the end; give --imatrix a place of its own\n",
                concat(demo, "--out", out.toString(), "--imatrix", imatrix.toString()));
        assertFalse(Files.exists(out));
        assertFalse(Files.exists(tmp.resolve(".nested.lock")));
        assertFalse(Files.exists(hf), "refused before the demo model is made");
    }

    /** Options that would change nothing are refused, not ignored. */
    @Test
    void optionsWithoutEffectAreRefused() {
        Path out = tmp.resolve("no-effect");
        refused("error: --owl-lambda sets OWL's allocation, which needs --allocation owl; add it, or drop --owl-lambda\n",
                "sweep", "--model", "./no/such/model", "--out", out.toString(), "--owl-lambda", "0.2");
        refused("error: --png-size sizes the pictures --no-png leaves out: drop one of them\n",
                "sweep", "--model", "./no/such/model", "--out", out.toString(), "--no-png", "--png-size", "1200x1000");
        assertFalse(Files.exists(out));
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    @Test
    void aBadStatsDeviceAndDeviceWithGramAreRefusedBeforeTheModelResolves() {
        Path out = tmp.resolve("stats-device");
        refused("error: --stats-device gpu is not a choice; use --stats-device auto, --stats-device java or"
                + " --stats-device device\n", "sweep", "--model", "./no/such/model", "--out", out.toString(),
                "--stats-device", "gpu");
        refused("error: --stats-device device does not compute --gram's output errors (recon_err_*), which need the"
                + " Java path's masks row by row: drop --gram, or use --stats-device auto or java\n", "sweep", "--model",
                "./no/such/model", "--out", out.toString(), "--stats-device", "device", "--gram");
        assertFalse(Files.exists(out));
        Run help = run("sweep", "--help");
        assertTrue(help.out().contains("--stats-device=WHERE"), help.out());
        assertTrue(help.out().contains("--no-depth"), help.out());
    }

    /** --device: a typo before the model resolves; a GPU this machine's libtorch cannot use before anything is written. */
    @Test
    void aDeviceThisMachineCannotUseIsRefusedBeforeAnythingIsWritten() {
        Path out = tmp.resolve("device");
        refused("error: --device gpu is not a device; use --device cpu, --device cuda (GPU 0), --device cuda:N or"
                + " --device cuda:0,1 (several GPUs)\n", "sweep", "--model", "./no/such/model", "--out", out.toString(),
                "--device", "gpu");
        org.junit.jupiter.api.Assumptions.assumeFalse(io.layerscope.llama.NativeLibrary.engine()
                .hasCapability(ai.djl.engine.StandardCapabilities.CUDA), "libtorch here has CUDA");
        String noCuda = ": this machine's libtorch cannot use CUDA: the jar holds the CPU build of libtorch (build it with"
                + " mvn -Pcuda -DskipTests package, or -Pcuda,cluster for the jar submit.sh runs through a Spark"
                + " distribution: docs/CLUSTER.md, GPU clusters), or the NVIDIA driver does not work (nvidia-smi says)."
                + " Without --device the job runs on the CPUs\n";
        // before the model resolves: a repo id would be downloaded first
        refused("error: --device cuda" + noCuda, "sweep", "--model", "./no/such/model", "--out", out.toString(),
                "--device", "cuda");
        Path png = tmp.resolve("device-png");
        refused("error: --device cuda:1" + noCuda, "layer", "--model", "demo", "--cache-dir", tmp.resolve("hf").toString(),
                "--layer", "lm_head", "--out", png.toString(), "--device", "cuda:1");
        assertFalse(Files.exists(out));
        assertFalse(Files.exists(png));
        assertTrue(run("sweep", "--help").out().contains("--device=DEVICE"));
    }

    @Test
    void aBadCalibrationCacheSizeIsRefusedBeforeTheModelResolves() {
        Path out = tmp.resolve("cache-size");
        Path dir = tmp.resolve("stage-one");
        for (String[] c : new String[][] {
                {"10x", "error: --calibration-cache-size 10x is not a size; use e.g. --calibration-cache-size 10g or"
                        + " --calibration-cache-size 500m\n"},
                {"0", "error: --calibration-cache-size 0 must be more than 0, e.g. --calibration-cache-size 10g\n"}}) {
            Run r = run("sweep", "--model", "./no/such/model", "--out", out.toString(), "--calibration-cache", dir.toString(),
                    "--calibration-cache-size", c[0]);
            assertEquals(2, r.status(), r.err());
            assertEquals("", r.out());
            assertEquals(c[1], r.err());
        }
        Run alone = run("layer", "--model", "./no/such/model", "--layer", "lm_head", "--calibration-cache-size", "1g");
        assertEquals(2, alone.status());
        assertEquals("error: --calibration-cache-size 1g needs --calibration-cache DIR: it bounds that directory\n",
                alone.err());
        assertFalse(Files.exists(out));
        assertFalse(Files.exists(dir));
        assertTrue(run("sweep", "--help").out().contains("--calibration-cache-size=SIZE"));
    }

    /** Where OFFLINE's commands put their per-user caches: the build's XDG_CACHE_HOME, else ~/.cache. */
    private static Path cacheHome() {
        String xdg = OFFLINE.get("XDG_CACHE_HOME");
        return xdg != null ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    }

    @Test
    void aRepoIdMissingFromTheCachesSaysWhereItLooked() {
        Path empty = tmp.resolve("empty");
        Run r = run("layer-types", "--model", "meta-llama/Llama-3.2-1B", "--cache-dir", empty.toString());
        assertEquals(2, r.status());
        assertEquals("error: HF_HUB_OFFLINE=1 is set, and the cache at " + empty + " has no snapshot of model"
                + " meta-llama/Llama-3.2-1B for revision main (no " + empty + "/models--meta-llama--Llama-3.2-1B/refs/main)."
                + " Run once where the Hub is reachable (without HF_HUB_OFFLINE), or point --cache-dir (or HF_HUB_CACHE)"
                + " at a cache that has it. It is not in " + cacheHome().resolve("huggingface/hub/models--meta-llama--Llama-3.2-1B")
                + " either.\n", r.err());
    }

    @Test
    void aCorruptCheckpointIsNamed() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("corrupt"));
        Files.writeString(dir.resolve("config.json"), Llama1bShapedCheckpoint.CONFIG_JSON);
        Files.write(dir.resolve("model.safetensors"), new byte[] {(byte) 200, 0, 0, 0, 0, 0, 0, 0, '{', '}'});
        Run r = run("list-layers", "--model", dir.toString());
        assertEquals(2, r.status());
        assertEquals("error: " + dir.resolve("model.safetensors") + ": header length 200 does not fit the file of 10 bytes"
                + " (truncated or not a safetensors file)\n", r.err());
    }

    @Test
    void unknownOptionsAndMissingCommandsExitWith2AndAUsageHint() {
        Run r = run("list-layers", "--modle", "demo");
        assertEquals(2, r.status());
        List<String> lines = r.err().lines().toList();
        assertEquals("error: Unknown option: '--modle'", lines.get(0));
        assertEquals("Try 'layerscope list-layers --help' for more information.", lines.get(lines.size() - 1));
        assertTrue(r.err().contains("--model"), "suggests the right spelling: " + r.err());

        // a typo in a required option is told as the typo, not as the option missing
        Run typo = run("sweep", "--model", "demo", "--outt", "x");
        assertEquals(2, typo.status());
        assertEquals("error: Unknown option: '--outt'\nPossible solutions: --out, --outlier-block-share,"
                + " --outlier-position-share\nTry 'layerscope sweep --help' for more information.\n", typo.err());

        // through submit.sh the command is named as it was run
        java.io.StringWriter err = new java.io.StringWriter();
        picocli.CommandLine viaScript = Main.commandLine(Map.of("LAYERSCOPE_PROG", "./submit.sh"));
        viaScript.setErr(new java.io.PrintWriter(err));
        assertEquals(2, viaScript.execute("sweep", "--sparsty", "0.6"));
        assertEquals("error: Unknown option: '--sparsty'\nPossible solutions: --sparsity\nTry './submit.sh sweep --help'"
                + " for more information.\n", err.toString());

        Run none = run();
        assertEquals(2, none.status());
        assertEquals("error: missing command: one of sweep, layer, query, layer-types, list-layers, completion, help\n"
                + "Try 'layerscope --help' for more information.\n", none.err());
    }

    @Test
    void helpListsTheCommandsAndSharedOptions() {
        Run root = run("--help");
        assertEquals(0, root.status());
        assertTrue(root.out().contains("layer-types") && root.out().contains("list-layers"), root.out());
        Run sub = run("list-layers", "--help");
        assertTrue(sub.out().contains("--cache-dir, --cache_dir=DIR"), sub.out());
        assertTrue(sub.out().replaceAll("\\s+", " ").contains("Default: meta-llama/Llama-3.2-1B."), sub.out());
        assertTrue(sub.out().contains("--verbose"), sub.out());
        String sparkOptions = "Through ./submit.sh every command also takes spark-submit's options\n"
                + "(--master, --conf k=v, --driver-memory, --packages, ...), which go to Spark.\n";
        for (String command : new String[] {"--help", "sweep --help", "layer --help"}) {
            Run help = run(command.split(" "));
            assertTrue(help.out().contains(sparkOptions), command + ":\n" + help.out());
        }
    }

    @Command(name = "boom")
    static final class Boom implements Callable<Integer> {
        final RuntimeException toThrow;

        Boom(RuntimeException toThrow) {
            this.toThrow = toThrow;
        }

        @Override
        public Integer call() {
            throw toThrow;
        }
    }

    @Test
    void executorsKilledForTheirMemoryAreAUserError() {
        RuntimeException spark = new RuntimeException("Job aborted due to stage failure: Task 1 in stage 1.0 failed 4"
                + " times, most recent failure: Lost task 1.3 in stage 1.0 (TID 9) (node-2 executor 3): ExecutorLostFailure"
                + " (executor 3 exited caused by one of the running tasks) Reason: Container killed by YARN for exceeding"
                + " physical memory limits. 9.1 GB of 9 GB physical memory used. Consider boosting"
                + " spark.executor.memoryOverhead.\nDriver stacktrace:");
        Run killed = run(Main.commandLine().addSubcommand(new Boom(spark)), "boom");
        assertEquals(2, killed.status());
        assertTrue(killed.err().startsWith("error: YARN killed executors for exceeding their containers' physical memory"
                + " (9.1 GB of 9 GB physical memory used): libtorch's memory"), killed.err());
    }

    /** Killed between tasks, executors fail none: the job ends when Spark gives up replacing them. */
    @Test
    void aContextStoppedAfterExecutorsWereKilledForTheirMemoryIsAUserError() {
        RuntimeException stopped = new RuntimeException(new org.apache.spark.SparkException(
                "Job 3 cancelled because SparkContext was shut down"));
        Run before = run(Main.commandLine().addSubcommand(new Boom(stopped)), "boom");
        assertEquals(1, before.status());
        assertTrue(before.err().startsWith("error: unexpected java.lang.RuntimeException: org.apache.spark.SparkException:"
                + " Job 3 cancelled because SparkContext was shut down"), before.err());
        try {
            Setbacks.record("Container killed by YARN for exceeding physical memory limits. 9.1 GB of 9 GB physical"
                    + " memory used. Consider boosting spark.executor.memoryOverhead.");
            Run killed = run(Main.commandLine().addSubcommand(new Boom(stopped)), "boom");
            assertEquals(2, killed.status());
            assertTrue(killed.err().startsWith("error: Spark stopped after losing executors (memory kills: 1):"
                    + " YARN killed executors for exceeding their containers' physical memory (9.1 GB of 9 GB physical memory"
                    + " used): libtorch's memory"), killed.err());
        } finally {
            Setbacks.clear();
        }
    }

    @Test
    void unexpectedErrorsExitWith1AndShowTheStackTraceOnlyWhenVerbose() {
        CommandLine cl = Main.commandLine().addSubcommand(new Boom(new IllegalStateException("index 3\nout of range")));
        Run quiet = run(cl, "boom");
        assertEquals(1, quiet.status());
        assertEquals("error: unexpected java.lang.IllegalStateException: index 3 out of range"
                + " (run with --verbose for the stack trace)\n", quiet.err());

        cl = Main.commandLine().addSubcommand(new Boom(new IllegalStateException("index 3")));
        Run verbose = run(cl, "boom", "--verbose");
        assertEquals(1, verbose.status());
        assertTrue(verbose.err().startsWith("error: unexpected java.lang.IllegalStateException: index 3\n"
                + "java.lang.IllegalStateException: index 3\n\tat "), verbose.err());

        cl = Main.commandLine().addSubcommand(new Boom(new LayerscopeException("bad --layer x")));
        Run bad = run(cl, "--verbose", "boom");
        assertEquals(2, bad.status());
        assertTrue(bad.err().startsWith("error: bad --layer x\nio.layerscope.LayerscopeException: bad --layer x\n"), bad.err());
    }

    @Test
    void verboseLogsTheResolvedModelToStandardError() {
        Run r = run("--verbose", "list-layers", "--model", oneB.toString());
        assertEquals(0, r.status());
        assertEquals("model: " + oneB + " (local directory)\n", r.err());
        Run after = run("list-layers", "--model", oneB.toString(), "--verbose");
        assertEquals("model: " + oneB + " (local directory)\n", after.err());
    }
}
