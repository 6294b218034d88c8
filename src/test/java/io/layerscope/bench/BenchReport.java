package io.layerscope.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerscope.LayerscopeException;
import io.layerscope.spark.RunRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Reads the measurements {@code jobs/bench} left in one directory and prints the tables and
 * ratios of the Performance section, as Markdown:
 * <ul>
 * <li>{@code forward-N.json}: measurement (1), from {@link ForwardThroughput}, one per run (one sequence at a
 *     time with every thread, as the peer); {@code forward2-N.json} optionally the same with one sequence per core
 *     (stage one's layout), the base of Spark's overhead;</li>
 * <li>{@code peer-N.json}: measurement (3), from {@code jobs/bench_peer.py}, one per run;</li>
 * <li>{@code sweep-png-N/run.json}, {@code sweep-nopng-N/run.json} with {@code sweep-*-N.time} (and, with
 *     BENCH_C4, {@code sweep-c4first-N} and {@code sweep-c4remembered-N})
 *     ("wall-seconds peak-rss-KiB", from /usr/bin/time): measurement (2), one per run;</li>
 * <li>{@code scaling.json}: stage one over local masters and shard counts ({@link StageOneScaling});</li>
 * <li>{@code depth.json}, {@code depth1b.json}: stage one's forward without and with the depth statistics
 *     ({@link DepthOverhead});</li>
 * <li>{@code long-thp0.json}, {@code long-thp1.json}, {@code peer-long.json}: the forward over Wanda's window
 *     length with libtorch's huge pages off and on, and the peer's (BENCH_LONG);</li>
 * <li>{@code loadavg.txt}: "label load1 load5 load15" lines the script appended as it went.</li>
 * </ul>
 * Of repeated runs the best (fastest) counts: the machine is shared, and slower runs measure the
 * neighbours.
 */
public final class BenchReport {
    private final Path dir;
    private final ObjectMapper json = new ObjectMapper();

    /** One sweep run: its run.json timings, the wall time and peak RSS of its JVM. */
    record SweepRun(Map<String, Double> timings, double wall, double rssMiB, Map<String, String> versions,
                    List<String> devices) {
        double t(String key) {
            Double v = timings.get(key);
            return v == null ? 0 : v;
        }

        double stageOne() {
            return t("stage1_calibration") - t("stage1_model_load");
        }

        /** Sampling, Spark start and the executors' model load run side by side; runs before that overlap had no "startup". */
        double startup() {
            return timings.containsKey("startup") ? t("startup") : t("sampling") + t("spark_start");
        }
    }

    public BenchReport(Path dir) {
        this.dir = dir;
    }

    public String render(String date, String machine) {
        Map<Integer, JsonNode> forwardRounds = readRounds("forward-");
        Map<Integer, JsonNode> peerRounds = readRounds("peer-");
        List<JsonNode> forwards = List.copyOf(forwardRounds.values());
        List<JsonNode> sharded = numbered("forward2-", ".json").stream().map(this::read).toList();
        List<JsonNode> peers = List.copyOf(peerRounds.values());
        List<SweepRun> png = sweeps("sweep-png-");
        List<SweepRun> noPng = sweeps("sweep-nopng-");
        if (forwards.isEmpty() || peers.isEmpty() || png.isEmpty() || noPng.isEmpty()) {
            throw new LayerscopeException(dir + " lacks forward-N.json, peer-N.json, sweep-png-N or sweep-nopng-N results;"
                    + " run jobs/bench");
        }
        JsonNode forward = forwards.stream()
                .max(Comparator.comparingDouble(f -> f.get("forward_tokens_per_second").asDouble())).get();
        double forwardRss = forwards.stream().mapToDouble(f -> f.get("peak_rss_mib").asDouble()).max().getAsDouble();
        int forwardPasses = forwards.stream().mapToInt(f -> f.get("forward_seconds").size()).sum();
        int peerPasses = peers.stream().mapToInt(p -> p.get("forward_seconds").size()).sum();
        JsonNode peer = peers.stream().max(Comparator.comparingDouble(p -> p.get("forward_tokens_per_second").asDouble())).get();
        double peerRun = peers.stream().mapToDouble(p -> p.get("run_seconds").asDouble()).min().getAsDouble();
        double peerLayers = peers.stream().mapToDouble(p -> p.get("layer_stage_seconds").asDouble()).min().getAsDouble();
        double peerLoad = peers.stream().mapToDouble(p -> p.get("import_seconds").asDouble() + p.get("load_seconds").asDouble())
                .min().getAsDouble();
        double peerRss = peers.stream().mapToDouble(p -> p.get("peak_rss_mib").asDouble()).max().getAsDouble();
        SweepRun bestPng = png.stream().min(Comparator.comparingDouble(SweepRun::wall)).get();
        SweepRun bestNoPng = noPng.stream().min(Comparator.comparingDouble(SweepRun::wall)).get();
        double tokens = forward.get("tokens").asDouble();
        double f1 = forward.get("forward_tokens_per_second").asDouble();
        double f3 = peer.get("forward_tokens_per_second").asDouble();
        double stageOneBest = Stream.concat(png.stream(), noPng.stream()).mapToDouble(SweepRun::stageOne).min().getAsDouble();
        double stageOneRate = tokens / stageOneBest;
        double f1Cpu = tokens / minOf(forwards, "forward_cpu_seconds");
        double f3Cpu = tokens / minOf(peers, "forward_cpu_seconds");
        double f2 = sharded.isEmpty() ? Double.NaN
                : sharded.stream().mapToDouble(f -> f.get("forward_tokens_per_second").asDouble()).max().getAsDouble();
        double f2Cpu = sharded.isEmpty() ? Double.NaN : tokens / minOf(sharded, "forward_cpu_seconds");
        double stageOneBase = sharded.isEmpty() ? f1 : f2;

        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "Measured %s on %s; 1-minute load average %s during the run.%n%n",
                date, machine, loadRange()));
        b.append(String.format(Locale.ROOT, "Workload: synthetic LLaMA (hidden 512, 8 layers, 8 heads / 2 KV heads, intermediate"
                + " 1408, Llama 3 vocabulary 128256, bf16 weights, %d prunable layers), %d x %d calibration tokens"
                + " (Wanda's sampling, seed 0, Llama 3 tokenizer), float32 compute on the CPU.%n",
                peer.get("layers").asInt(), forward.get("windows").asInt(), (int) (tokens / forward.get("windows").asInt())));
        Map<String, String> v = bestPng.versions();
        b.append(String.format(Locale.ROOT, "layerscope: DJL %s, libtorch %s, Spark %s, Java %s; %d libtorch threads for (1),"
                        + " local[2] (2 tasks x 1 thread) for (2); devices: %s.%n",
                v.getOrDefault("djl", "?"), v.getOrDefault("pytorch", "?"), v.getOrDefault("spark", "?"),
                v.getOrDefault("java", "?"), forward.get("threads").asInt(),
                bestPng.devices() == null ? "not recorded" : String.join("; ", bestPng.devices())));
        b.append(String.format(Locale.ROOT, "Peer: PyTorch %s eager (Python %s), BLAS %s, %d threads, %s, OMP_WAIT_POLICY=%s"
                        + " (both sides).%n%n",
                peer.get("torch").asText(), peer.get("python").asText(), blas(peer), peer.get("threads").asInt(),
                peer.get("dtype").asText(), peer.get("omp_wait_policy").asText()));

        b.append("| measurement | layerscope | PyTorch eager + hooks | ratio |\n|---|---:|---:|---:|\n");
        row(b, "(1)/(3) forward with taps, tokens/s (best of " + forwardPasses + " / " + peerPasses + " passes)",
                num(f1), num(f3), ratio(f1 / f3));
        row(b, "(1)/(3) forward with taps, tokens per CPU-second", num(f1Cpu), num(f3Cpu), ratio(f1Cpu / f3Cpu));
        if (!sharded.isEmpty()) {
            row(b, "(1') forward, 2 sequences at once x 1 thread (stage one's layout), tokens/s [per CPU-s]",
                    num(f2) + " [" + num(f2Cpu) + "]", "-", ratio(f2 / f3) + " [" + ratio(f2Cpu / f3Cpu) + "]");
        }
        row(b, "(2)/(3) end to end, every layer, no PNGs, s (ratio: peer s / ours)", sec(bestNoPng.wall()), sec(peerRun),
                ratio(peerRun / bestNoPng.wall()));
        row(b, "(2) end to end with the 9-panel PNG of every layer, s", sec(bestPng.wall()), "-", "-");
        row(b, "stage one through Spark, tokens/s (vs " + (sharded.isEmpty() ? "(1)" : "(1')") + ")", num(stageOneRate), "-",
                ratio(stageOneRate / stageOneBase));
        // like with like, phase by phase: the sweep's two stages against the peer's two steps
        row(b, "stage one's calibration forward / peer's forward with hooks, s (ratio: peer s / ours)",
                sec(bestNoPng.stageOne()), sec(tokens / f3), ratio(tokens / f3 / bestNoPng.stageOne()));
        row(b, "per-layer stage (stats + masks [+ PNG]) / peer's metric + sort, s (ratio: peer s / ours, no PNGs)",
                sec(bestNoPng.t("stage2_layers")) + " [" + sec(bestPng.t("stage2_layers")) + "]", sec(peerLayers),
                ratio(peerLayers / bestNoPng.t("stage2_layers")));
        row(b, "(4) peak RSS, MiB: sweep JVM (driver = executor in local mode) / peer",
                num(bestPng.rssMiB()) + " [no PNG " + num(bestNoPng.rssMiB()) + "]", num(peerRss), "-");
        row(b, "(4) peak RSS of the forward-only JVM (1), MiB", num(forwardRss), "-", "-");
        b.append('\n');

        List<JsonNode> matmuls = numbered("matmul-", ".json").stream().map(this::read).toList();
        List<JsonNode> peerMatmuls = numbered("peer-matmul-", ".json").stream().map(this::read).toList();
        if (!matmuls.isEmpty() && !peerMatmuls.isEmpty()) {
            b.append(matrixProductsTable(matmuls, peerMatmuls));
        }

        b.append("Sweep through Spark local[2] (`./submit.sh sweep`), best of ").append(png.size()).append(" runs each, seconds:\n\n");
        b.append("| phase | PNGs on | PNGs off |\n|---|---:|---:|\n");
        row(b, "JVM start and exit, launcher, model resolution, run.json", sec(jvm(bestPng)), sec(jvm(bestNoPng)));
        row(b, "start-up: the three below, overlapped (wall)", sec(bestPng.startup()), sec(bestNoPng.startup()));
        row(b, "&nbsp;&nbsp;calibration windows on the driver (Wanda's get_c4, or remembered from the warm-up sweep)",
                sec(bestPng.t("sampling")),
                sec(bestNoPng.t("sampling")));
        row(b, "&nbsp;&nbsp;Spark session start (background)", sec(bestPng.t("spark_start")), sec(bestNoPng.t("spark_start")));
        row(b, "&nbsp;&nbsp;model load (+ a warm-up window on a cluster's executors) (background)", sec(bestPng.t("executor_warmup")),
                sec(bestNoPng.t("executor_warmup")));
        row(b, "model load still awaited by stage one", sec(bestPng.t("stage1_model_load")), sec(bestNoPng.t("stage1_model_load")));
        row(b, "stage one: calibration forward", sec(bestPng.stageOne()), sec(bestNoPng.stageOne()));
        row(b, "stage two: per-layer statistics, masks, PNGs", sec(bestPng.t("stage2_layers")), sec(bestNoPng.t("stage2_layers")));
        row(b, "writing Parquet, PNGs, run.json", sec(bestPng.t("write")), sec(bestNoPng.t("write")));
        row(b, "**wall**", sec(bestPng.wall()), sec(bestNoPng.wall()));
        b.append(String.format(Locale.ROOT, "%nPeer, best of %d: import torch + load %s s, forward with hooks %s s, metric + sort"
                        + " of every layer %s s.%n%n", peers.size(), sec(peerLoad), sec(tokens / f3), sec(peerLayers)));

        b.append("Ratios:\n");
        b.append(String.format(Locale.ROOT, "- forward, (1) over (3): %s in tokens/s, %s in tokens per CPU-second"
                + " (>= 1: layerscope at least as fast on the same cores)%n", ratio(f1 / f3), ratio(f1Cpu / f3Cpu)));
        b.append(String.format(Locale.ROOT, "- end to end, (2) over (3) as speed (peer seconds / sweep seconds): %s without PNGs,"
                + " %s with them; %s without PNGs and without the sweep's calibration windows, which the peer reads from"
                + " JSON (the sweeps read them as the warm-up sweep remembered them)%n", ratio(peerRun / bestNoPng.wall()), ratio(peerRun / bestPng.wall()),
                ratio(peerRun / (bestNoPng.wall() - bestNoPng.t("sampling")))));
        b.append(String.format(Locale.ROOT, "- stage one tokens/s over %s: %s (Spark's overhead on stage one: %.0f%%)%n",
                sharded.isEmpty() ? "(1)" : "(1') (same layout: 2 task slots x 1 thread)", ratio(stageOneRate / stageOneBase),
                100 * Math.max(0, 1 - stageOneRate / stageOneBase)));
        b.append(String.format(Locale.ROOT, "- per-layer stage share of the sweep: %.0f%% with PNGs, %.0f%% without%n",
                100 * bestPng.t("stage2_layers") / bestPng.wall(), 100 * bestNoPng.t("stage2_layers") / bestNoPng.wall()));
        b.append(String.format(Locale.ROOT, "- round by round (a round's runs ran back to back, so these pair like with like):"
                + " forward %s in tokens/s, %s per CPU-second; per-layer stage share %s with PNGs, %s without%n",
                ratiosByRound(forwardRounds, peerRounds, f -> f.get("forward_tokens_per_second").asDouble()),
                ratiosByRound(forwardRounds, peerRounds, f -> f.get("tokens").asDouble() / minOf(List.of(f), "forward_cpu_seconds")),
                shares(png), shares(noPng)));
        b.append(String.format(Locale.ROOT, "- scaler_row agreement with the peer: largest difference %.1e of the layer's largest value%n%n",
                scalerRowDifference(forward, peer)));

        List<SweepRun> sequential = sweeps("sweep-seq-");
        if (!sequential.isEmpty()) {
            b.append(sequentialTable("the mid-size workload", sequential, noPng));
        }
        List<SweepRun> sequential1b = sweeps("sweep1b-sequential-");
        List<SweepRun> dense1b = sweeps("sweep1b-dense-");
        if (!sequential1b.isEmpty() && !dense1b.isEmpty()) {
            b.append(sequentialTable("the Llama-3.2-1B-shaped model (random bf16 weights, 8 x 256 tokens)", sequential1b,
                    dense1b));
        }

        List<SweepRun> c4First = sweeps("sweep-c4first-");
        List<SweepRun> c4Remembered = sweeps("sweep-c4remembered-");
        if (!c4First.isEmpty() && !c4Remembered.isEmpty()) {
            b.append(c4SizedTable(c4First, c4Remembered));
        }

        List<SweepRun> gram = sweeps("sweep-gram-");
        if (!gram.isEmpty()) {
            b.append(gramTable("the mid-size workload", gram, noPng));
        }
        List<SweepRun> png1b = sweeps("sweep1b-png-");
        List<JsonNode> peers1b = List.copyOf(readRounds("peer1b-").values());
        if (!png1b.isEmpty() && !peers1b.isEmpty()) {
            b.append(endToEnd1bTable(png1b, dense1b, peers1b));
        }
        List<SweepRun> gram1b = sweeps("sweep1b-gram-");
        if (!gram1b.isEmpty() && !dense1b.isEmpty()) {
            b.append(gramTable("the Llama-3.2-1B-shaped model (random bf16 weights, 8 x 256 tokens)", gram1b, dense1b));
        }

        String longWindows = longWindowsTable();
        if (!longWindows.isEmpty()) {
            b.append(longWindows);
        }

        String depth = depthTable();
        if (!depth.isEmpty()) {
            b.append(depth);
        }

        Path scaling = dir.resolve("scaling.json");
        if (Files.isRegularFile(scaling)) {
            b.append(scalingTable(read(scaling)));
        }
        return b.toString();
    }

    /**
     * Issue 20's goal 4 at real size: the sweep with pictures (and without, when measured) against the
     * PyTorch peer on the Llama-3.2-1B-shaped model, 8 x 256 tokens, best of each; the peer's run is
     * its import, load, hooked forward and per-layer metric and sort (no repeated passes).
     */
    private static String endToEnd1bTable(List<SweepRun> png, List<SweepRun> noPng, List<JsonNode> peers) {
        SweepRun best = png.stream().min(Comparator.comparingDouble(SweepRun::wall)).get();
        JsonNode peer = peers.stream().min(Comparator.comparingDouble(p -> p.get("run_seconds").asDouble())).get();
        double peerRun = peer.get("run_seconds").asDouble();
        StringBuilder b = new StringBuilder();
        b.append("End to end on the Llama-3.2-1B-shaped model (random bf16 weights, 8 x 256 tokens, local[2]) against the"
                + " PyTorch peer (import, load, forward with hooks, metric and sort of every layer), best of ")
                .append(png.size()).append(" / ").append(peers.size()).append(" runs, seconds:\n\n");
        b.append("| phase | layerscope, with PNGs | peer | ratio (ours / peer) |\n|---|---:|---:|---:|\n");
        double peerLoad = peer.get("import_seconds").asDouble() + peer.get("load_seconds").asDouble();
        row(b, "model load (ours: what stage one still waited for) / import + load", sec(best.t("stage1_model_load")),
                sec(peerLoad), ratio(best.t("stage1_model_load") / peerLoad));
        double peerForward = peer.get("first_forward_seconds").asDouble();
        row(b, "calibration forward", sec(best.stageOne()), sec(peerForward), ratio(best.stageOne() / peerForward));
        double peerLayers = peer.get("layer_stage_seconds").asDouble();
        row(b, "per-layer stage (ours: statistics, masks, PNGs)", sec(best.t("stage2_layers")), sec(peerLayers),
                ratio(best.t("stage2_layers") / peerLayers));
        row(b, "**end to end** (ours: the JVM's wall time)", sec(best.wall()), sec(peerRun), ratio(best.wall() / peerRun));
        if (!noPng.isEmpty()) {
            SweepRun bestNoPng = noPng.stream().min(Comparator.comparingDouble(SweepRun::wall)).get();
            row(b, "end to end without PNGs", sec(bestNoPng.wall()), sec(peerRun), ratio(bestNoPng.wall() / peerRun));
        }
        row(b, "peak RSS, MiB", num(best.rssMiB()), num(peer.get("peak_rss_mib").asDouble()), "-");
        b.append('\n');
        return b.toString();
    }

    /**
     * The forward over Wanda's window length (BENCH_LONG): long-thp0.json and long-thp1.json from
     * {@link ForwardThroughput} (libtorch's huge pages off and on), peer-long.json from the peer's
     * forward; empty unless both of ours were measured.
     */
    private String longWindowsTable() {
        Path off = dir.resolve("long-thp0.json");
        Path on = dir.resolve("long-thp1.json");
        if (!Files.isRegularFile(off) || !Files.isRegularFile(on)) {
            return "";
        }
        JsonNode without = read(off);
        JsonNode with = read(on);
        Path peerFile = dir.resolve("peer-long.json");
        JsonNode peer = Files.isRegularFile(peerFile) ? read(peerFile) : null;
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "The forward with taps over Wanda's window length on the Llama-3.2-1B-shaped model"
                + " (%d x %d tokens, %d sequences at once x 1 thread), libtorch's huge pages (THP_MEM_ALLOC_ENABLE) off and on,"
                + " one pass each after a warm-up window; the peer one sequence at a time on %d threads:%n%n",
                without.get("windows").asInt(), without.get("tokens").asInt() / without.get("windows").asInt(),
                without.get("workers").asInt(), peer == null ? 0 : peer.get("threads").asInt()));
        b.append("| | huge pages off | on | on / off | peer |\n|---|---:|---:|---:|---:|\n");
        double tpsOff = without.get("forward_tokens_per_second").asDouble();
        double tpsOn = with.get("forward_tokens_per_second").asDouble();
        row(b, "tokens/s", num(tpsOff), num(tpsOn), ratio(tpsOn / tpsOff),
                peer == null ? "-" : num(peer.get("forward_tokens_per_second").asDouble()));
        double cpuOff = minOf(List.of(without), "forward_cpu_seconds");
        double cpuOn = minOf(List.of(with), "forward_cpu_seconds");
        row(b, "forward CPU-seconds", sec(cpuOff), sec(cpuOn), ratio(cpuOn / cpuOff), "-");
        row(b, "peak RSS, MiB", num(without.get("peak_rss_mib").asDouble()), num(with.get("peak_rss_mib").asDouble()), "-",
                peer == null ? "-" : num(peer.get("peak_rss_mib").asDouble()));
        b.append('\n');
        if (peer != null) {
            b.append(String.format(Locale.ROOT, "Forward speed over the peer's, huge pages on: %s.%n%n",
                    ratio(tpsOn / peer.get("forward_tokens_per_second").asDouble())));
        }
        return b.toString();
    }

    /** The sequential sweep (Wanda's prune_wanda) against the dense one, both without PNGs, round by round. */
    private static String sequentialTable(String workload, List<SweepRun> sequential, List<SweepRun> dense) {
        SweepRun bestSeq = sequential.stream().min(Comparator.comparingDouble(SweepRun::wall)).get();
        SweepRun bestDense = dense.stream().min(Comparator.comparingDouble(SweepRun::wall)).get();
        StringBuilder b = new StringBuilder();
        b.append("Sequential mode (`--mode sequential`, no PNGs) against the dense sweep on ").append(workload)
                .append(", best of ").append(sequential.size()).append(" runs, seconds:\n\n");
        b.append("| phase | sequential | dense | ratio |\n|---|---:|---:|---:|\n");
        row(b, "stage one: dense calibration forward", sec(bestSeq.stageOne()), sec(bestDense.stageOne()),
                ratio(bestSeq.stageOne() / bestDense.stageOne()));
        row(b, "stage two: block rounds (sequential) / per-layer statistics (dense)", sec(bestSeq.t("stage2_sequential")),
                sec(bestDense.t("stage2_layers")), ratio(bestSeq.t("stage2_sequential") / bestDense.t("stage2_layers")));
        row(b, "**wall**", sec(bestSeq.wall()), sec(bestDense.wall()), ratio(bestSeq.wall() / bestDense.wall()));
        b.append('\n');
        return b.toString();
    }

    /**
     * Stage one's forward without and with the depth statistics ({@link DepthOverhead}: depth.json,
     * and depth1b.json for the Llama-3.2-1B-shaped model); empty when neither was measured.
     */
    private String depthTable() {
        StringBuilder b = new StringBuilder();
        for (String[] w : new String[][] {{"depth.json", "the mid-size workload"}, {"depth1b.json", "the Llama-3.2-1B-shaped model"}}) {
            Path f = dir.resolve(w[0]);
            if (!Files.isRegularFile(f)) {
                continue;
            }
            JsonNode d = read(f);
            double[] without = doubles(d.get("without_seconds"));
            double[] with = doubles(d.get("with_seconds"));
            double[] inside = doubles(d.get("accumulator_seconds"));
            double[] cpuWithout = doubles(d.get("without_cpu_seconds"));
            double[] cpuWith = doubles(d.get("with_cpu_seconds"));
            double[] ratios = new double[without.length];
            double[] shares = new double[without.length];
            double[] cpuRatios = new double[without.length];
            for (int r = 0; r < ratios.length; r++) {
                ratios[r] = with[r] / without[r];
                shares[r] = inside[r] / without[r];
                cpuRatios[r] = cpuWith[r] / cpuWithout[r];
            }
            if (b.length() == 0) {
                b.append("Depth and outlier statistics (issue 17) in stage one's forward (every tap, one sequence per forward),"
                        + " without and with them in one JVM, alternating rounds:\n\n");
                b.append("| workload | rounds | without, best s | with, best s | overhead: median of the rounds | best over best"
                        + " | CPU seconds: median of the rounds | time in the accumulator over without: median |\n"
                        + "|---|---:|---:|---:|---:|---:|---:|---:|\n");
            }
            double bestWithout = Arrays.stream(without).min().orElseThrow();
            double bestWith = Arrays.stream(with).min().orElseThrow();
            row(b, w[1] + " (" + d.get("sequences").asInt() + " x " + d.get("tokens").asInt() + " tokens)",
                    Integer.toString(ratios.length), sec(bestWithout), sec(bestWith), percent(DepthOverhead.median(ratios) - 1),
                    percent(bestWith / bestWithout - 1), percent(DepthOverhead.median(cpuRatios) - 1), String.format(Locale.ROOT, "%.1f%%", 100 * DepthOverhead.median(shares)));
        }
        if (b.length() > 0) {
            b.append('\n');
        }
        return b.toString();
    }

    private static double[] doubles(JsonNode array) {
        double[] v = new double[array.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = array.get(i).asDouble();
        }
        return v;
    }

    static String percent(double v) {
        return String.format(Locale.ROOT, "%+.1f%%", 100 * v);
    }

    /** The sweep with --gram against the plain one, both without PNGs: the passes and what they cost. */
    /**
     * The mid-size sweep over a shard of C4 shard 0's size: its first run reads the shard and samples,
     * the next reads the windows the first remembered; best of each.
     */
    private static String c4SizedTable(List<SweepRun> first, List<SweepRun> remembered) {
        SweepRun f = first.stream().min(Comparator.comparingDouble(SweepRun::wall)).get();
        SweepRun r = remembered.stream().min(Comparator.comparingDouble(SweepRun::wall)).get();
        StringBuilder b = new StringBuilder();
        b.append("The mid-size sweep (no PNGs) over a synthetic shard of C4 shard 0's size (356,317 documents, 0.9 GB of"
                + " JSON), best of ").append(first.size()).append(" runs, seconds:\n\n");
        b.append("| | first run (reads the shard, samples) | windows remembered | ratio |\n|---|---:|---:|---:|\n");
        row(b, "calibration windows on the driver", sec(f.t("sampling")), sec(r.t("sampling")), "-");
        row(b, "start-up (the windows beside Spark's start)", sec(f.startup()), sec(r.startup()), "-");
        row(b, "**wall**", sec(f.wall()), sec(r.wall()), ratio(r.wall() / f.wall()));
        row(b, "peak RSS (MiB)", String.format(Locale.ROOT, "%.0f", f.rssMiB()), String.format(Locale.ROOT, "%.0f", r.rssMiB()),
                ratio(r.rssMiB() / f.rssMiB()));
        b.append('\n');
        return b.toString();
    }

    private static String gramTable(String workload, List<SweepRun> gram, List<SweepRun> plain) {
        SweepRun bestGram = gram.stream().min(Comparator.comparingDouble(SweepRun::wall)).get();
        SweepRun bestPlain = plain.stream().min(Comparator.comparingDouble(SweepRun::wall)).get();
        StringBuilder b = new StringBuilder();
        b.append("`--gram` (no PNGs, default --gram-memory: one pass here) against the plain sweep on ").append(workload).append(", best of ").append(gram.size())
                .append(" runs, seconds:\n\n");
        b.append("| phase | --gram | plain | ratio |\n|---|---:|---:|---:|\n");
        row(b, "stage one: calibration forward", sec(bestGram.stageOne()), sec(bestPlain.stageOne()),
                ratio(bestGram.stageOne() / bestPlain.stageOne()));
        row(b, "Gram passes (forward + x^T x per tap)", sec(bestGram.t("gram_passes")), "-", "-");
        row(b, "stage two: per-layer statistics (+ output errors)", sec(bestGram.t("stage2_layers")),
                sec(bestPlain.t("stage2_layers")), ratio(bestGram.t("stage2_layers") / bestPlain.t("stage2_layers")));
        row(b, "**wall**", sec(bestGram.wall()), sec(bestPlain.wall()), ratio(bestGram.wall() / bestPlain.wall()));
        row(b, "peak RSS (MiB)", String.format(Locale.ROOT, "%.0f", bestGram.rssMiB()),
                String.format(Locale.ROOT, "%.0f", bestPlain.rssMiB()), ratio(bestGram.rssMiB() / bestPlain.rssMiB()));
        b.append('\n');
        return b.toString();
    }

    /**
     * (1) over (3) for each round with both measurements: {@code rate} of each side's measurement of
     * that round (tokens/s of its best pass, or tokens per CPU-second of its cheapest).
     */
    private static String ratiosByRound(Map<Integer, JsonNode> ours, Map<Integer, JsonNode> peers,
                                        ToDoubleFunction<JsonNode> rate) {
        List<String> ratios = new ArrayList<>();
        ours.forEach((round, f) -> {
            JsonNode p = peers.get(round);
            if (p != null) {
                ratios.add(ratio(rate.applyAsDouble(f) / rate.applyAsDouble(p)));
            }
        });
        return ratios.isEmpty() ? "-" : String.join(", ", ratios);
    }

    /** Stage two's share of the wall time of each sweep run, in round order. */
    private static String shares(List<SweepRun> runs) {
        return runs.stream().map(r -> String.format(Locale.ROOT, "%.0f%%", 100 * r.t("stage2_layers") / r.wall()))
                .collect(Collectors.joining(", "));
    }

    /** The forward's matrix products alone, best GFLOP/s over the rounds on each side. */
    static String matrixProductsTable(List<JsonNode> ours, List<JsonNode> peer) {
        StringBuilder b = new StringBuilder();
        JsonNode first = ours.get(0);
        b.append(String.format(Locale.ROOT, "The forward's matrix products alone (one block's, %d tokens, float32, %d threads;"
                + " libtorch's BLAS vs the peer's), best of %d / %d rounds, GFLOP/s:%n%n",
                first.get("tokens").asInt(), first.get("threads").asInt(), ours.size(), peer.size()));
        b.append("| product (tokens x in x out) | layerscope (libtorch) | peer (torch + OpenBLAS) | ratio |\n|---|---:|---:|---:|\n");
        for (JsonNode p : first.get("products")) {
            String name = p.get("name").asText();
            double a = bestProduct(ours, name);
            double c = bestProduct(peer, name);
            row(b, String.format(Locale.ROOT, "%s (%d x %d x %d)", name, first.get("tokens").asInt(), p.get("in").asInt(),
                    p.get("out").asInt()), String.format(Locale.ROOT, "%.1f", a), String.format(Locale.ROOT, "%.1f", c),
                    ratio(a / c));
        }
        double a = ours.stream().mapToDouble(r -> r.get("block_gflops").asDouble()).max().getAsDouble();
        double c = peer.stream().mapToDouble(r -> r.get("block_gflops").asDouble()).max().getAsDouble();
        row(b, "the four in a row", String.format(Locale.ROOT, "%.1f", a), String.format(Locale.ROOT, "%.1f", c), ratio(a / c));
        return b.append('\n').toString();
    }

    private static double bestProduct(List<JsonNode> runs, String name) {
        double best = 0;
        for (JsonNode r : runs) {
            for (JsonNode p : r.get("products")) {
                if (p.get("name").asText().equals(name)) {
                    best = Math.max(best, p.get("gflops").asDouble());
                }
            }
        }
        return best;
    }

    private String scalingTable(JsonNode s) {
        Map<String, Map<Integer, Double>> byMaster = new TreeMap<>();
        List<Integer> shardCounts = new ArrayList<>();
        for (JsonNode r : s.get("runs")) {
            int shards = r.get("shards").asInt();
            if (!shardCounts.contains(shards)) {
                shardCounts.add(shards);
            }
            byMaster.computeIfAbsent(r.get("master").asText(), k -> new TreeMap<>())
                    .put(shards, r.get("tokens_per_second").asDouble());
        }
        StringBuilder b = new StringBuilder("Stage one alone (model cached, best of 3), tokens/s:\n\n| master |");
        shardCounts.forEach(n -> b.append(' ').append(n).append(n == 1 ? " shard |" : " shards |"));
        b.append("\n|---|").append("---:|".repeat(shardCounts.size())).append('\n');
        byMaster.forEach((master, rates) -> {
            b.append("| ").append(master).append(" |");
            shardCounts.forEach(n -> b.append(' ').append(rates.containsKey(n) ? num(rates.get(n)) : "-").append(" |"));
            b.append('\n');
        });
        Map<Integer, Double> one = byMaster.get("local[1]");
        Map<Integer, Double> two = byMaster.get("local[2]");
        if (one != null && two != null) {
            double best1 = one.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
            double best2 = two.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
            b.append(String.format(Locale.ROOT, "%nSpeed-up of local[2] over local[1] (best shard count each): %s%n",
                    ratio(best2 / best1)));
        }
        return b.toString();
    }

    /** The smallest entry of the array {@code field} over all runs. */
    private static double minOf(List<JsonNode> runs, String field) {
        double min = Double.MAX_VALUE;
        for (JsonNode r : runs) {
            for (JsonNode v : r.get(field)) {
                min = Math.min(min, v.asDouble());
            }
        }
        return min;
    }

    /** Largest |ours - peer| over all layers and features, relative to the layer's largest peer value. */
    static double scalerRowDifference(JsonNode forward, JsonNode peer) {
        JsonNode ours = forward.get("scaler_rows");
        JsonNode theirs = peer.get("scaler_rows");
        if (ours == null || theirs == null) {
            return Double.NaN;
        }
        double worst = 0;
        Iterator<String> names = ours.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            JsonNode a = ours.get(name);
            JsonNode p = theirs.get(name);
            if (p == null || p.size() != a.size()) {
                throw new LayerscopeException("the peer has no scaler_row of " + name + " (or of another length)");
            }
            double scale = 0;
            double diff = 0;
            for (int i = 0; i < a.size(); i++) {
                scale = Math.max(scale, Math.abs(p.get(i).asDouble()));
                diff = Math.max(diff, Math.abs(a.get(i).asDouble() - p.get(i).asDouble()));
            }
            worst = Math.max(worst, scale == 0 ? diff : diff / scale);
        }
        return worst;
    }

    private static double jvm(SweepRun r) {
        return r.wall() - r.t("total") + r.t("resolve");
    }

    private String loadRange() {
        Path f = dir.resolve("loadavg.txt");
        try {
            if (!Files.isRegularFile(f)) {
                return "not recorded";
            }
            double lo = Double.MAX_VALUE;
            double hi = 0;
            for (String line : Files.readAllLines(f)) {
                String[] parts = line.trim().split("\\s+");
                if (parts.length >= 2) {
                    double l = Double.parseDouble(parts[1]);
                    lo = Math.min(lo, l);
                    hi = Math.max(hi, l);
                }
            }
            return hi == 0 && lo == Double.MAX_VALUE ? "not recorded" : String.format(Locale.ROOT, "%.1f to %.1f", lo, hi);
        } catch (IOException | NumberFormatException e) {
            return "not recorded";
        }
    }

    private static String blas(JsonNode peer) {
        List<String> libs = new ArrayList<>();
        peer.get("blas").forEach(n -> libs.add(n.asText()));
        String mapped = libs.isEmpty() ? "(none mapped)" : String.join(", ", libs);
        // which kernels OpenBLAS ran: its fallback on a CPU it does not know is several times slower
        JsonNode core = peer.get("blas_core");
        return core == null || core.isNull() ? mapped : mapped + " (OpenBLAS kernels: " + core.asText() + ")";
    }

    private List<SweepRun> sweeps(String prefix) {
        List<SweepRun> runs = new ArrayList<>();
        for (Path time : numbered(prefix, ".time")) {
            String name = time.getFileName().toString();
            Path results = dir.resolve(name.substring(0, name.length() - ".time".length()));
            RunRecord run = RunRecord.read(results);
            String[] t;
            try {
                t = Files.readString(time).trim().split("\\s+");
            } catch (IOException e) {
                throw new LayerscopeException(time + ": cannot read (" + e.getMessage() + ")", e);
            }
            runs.add(new SweepRun(run.timingsSeconds(), Double.parseDouble(t[0]), Double.parseDouble(t[1]) / 1024.0,
                    run.versions(), run.devices()));
        }
        return runs;
    }

    /** The JSON files {@code prefix}N.json, read, by round N. */
    private Map<Integer, JsonNode> readRounds(String prefix) {
        Map<Integer, JsonNode> rounds = new TreeMap<>();
        byRound(prefix, ".json").forEach((round, file) -> rounds.put(round, read(file)));
        return rounds;
    }

    /** The files {@code prefix}N{@code suffix} in round order (N as a number: round 10 after round 9). */
    private List<Path> numbered(String prefix, String suffix) {
        return List.copyOf(byRound(prefix, suffix).values());
    }

    /** The files {@code prefix}N{@code suffix} by round N. */
    private Map<Integer, Path> byRound(String prefix, String suffix) {
        Map<Integer, Path> rounds = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            files.forEach(p -> {
                String n = p.getFileName().toString();
                String round = n.startsWith(prefix) && n.endsWith(suffix) && n.length() > prefix.length() + suffix.length()
                        ? n.substring(prefix.length(), n.length() - suffix.length()) : "";
                if (round.matches("\\d{1,9}")) {
                    rounds.put(Integer.parseInt(round), p);
                }
            });
        } catch (IOException e) {
            throw new LayerscopeException(dir + ": cannot list the benchmark results (" + e.getMessage() + ")", e);
        }
        return rounds;
    }

    private JsonNode read(Path f) {
        try {
            return json.readTree(f.toFile());
        } catch (IOException e) {
            throw new LayerscopeException(f + ": cannot read (" + e.getMessage() + "); run jobs/bench to produce it", e);
        }
    }

    private static void row(StringBuilder b, String... cells) {
        b.append("| ").append(String.join(" | ", cells)).append(" |\n");
    }

    static String num(double v) {
        return String.format(Locale.ROOT, "%,.0f", v);
    }

    static String sec(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }

    static String ratio(double v) {
        return String.format(Locale.ROOT, "%.2fx", v);
    }
}
