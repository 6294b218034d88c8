package io.layerscope.bench;

import ai.djl.Device;
import ai.djl.engine.Engine;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.layerscope.llama.ComputeDtype;
import io.layerscope.llama.LlamaModel;
import io.layerscope.llama.TapSums;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.PrunableLayer;
import io.layerscope.LayerscopeException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Measurement (1) of the benchmark: the forward pass with every tap, in this JVM, no Spark. The
 * engine start and the model load are timed apart from the forward; one window warms up, then
 * all windows run {@code repeat} times and each pass is timed. The scaler_row of every layer goes
 * into the result too, so the report can check that the peer computed the same statistics.
 */
public final class ForwardThroughput {
    private ForwardThroughput() {
    }

    /**
     * Runs the measurement on {@code threads} cores: {@code workers} threads each forwarding a
     * shard of the windows with {@code threads / workers} libtorch threads (set before the engine
     * starts; a JVM that already started the engine keeps its count). Returns it as a JSON object.
     */
    public static ObjectNode measure(BenchWorkload workload, int threads, int workers, int repeat, int batchSize,
                                     PrintStream err) {
        if (workers < 1 || threads % workers != 0) {
            throw new LayerscopeException("--workers " + workers + " must be at least 1 and divide --threads " + threads);
        }
        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads / workers));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        List<int[]> windows = workload.windows();
        long tokens = windows.stream().mapToLong(w -> w.length).sum();
        long t0 = System.nanoTime();
        Engine.getEngine("PyTorch");
        double engineStart = (System.nanoTime() - t0) / 1e9;
        t0 = System.nanoTime();
        Checkpoint ckpt = Checkpoint.open(workload.modelDir());
        ObjectNode out = new ObjectMapper().createObjectNode();
        try (LlamaModel model = LlamaModel.load(ckpt, Device.cpu(), ComputeDtype.FLOAT32)) {
            double load = (System.nanoTime() - t0) / 1e9;
            t0 = System.nanoTime();
            model.forward(windows.subList(0, 1), batchSize);
            double warmup = (System.nanoTime() - t0) / 1e9;
            ArrayNode seconds = out.putArray("forward_seconds");
            ArrayNode cpuSeconds = out.putArray("forward_cpu_seconds");
            double best = Double.MAX_VALUE;
            TapSums sums = null;
            for (int r = 0; r < repeat; r++) {
                long s = System.nanoTime();
                double c = PeakMemory.processCpuSeconds();
                sums = forward(model, windows, batchSize, workers);
                double secs = (System.nanoTime() - s) / 1e9;
                seconds.add(secs);
                cpuSeconds.add(PeakMemory.processCpuSeconds() - c);
                best = Math.min(best, secs);
                err.printf("bench forward: pass %d: %.2f s, %.0f tokens/s%n", r + 1, secs, tokens / secs);
            }
            out.put("threads", threads);
            out.put("workers", workers);
            out.put("batch_size", batchSize);
            out.put("dtype", model.computeType().toString().toLowerCase(java.util.Locale.ROOT));
            out.put("windows", windows.size());
            out.put("tokens", tokens);
            out.put("engine_start_seconds", engineStart);
            out.put("load_seconds", load);
            out.put("warmup_seconds", warmup);
            out.put("forward_tokens_per_second", tokens / best);
            ObjectNode rows = out.putObject("scaler_rows");
            for (PrunableLayer layer : ckpt.prunableLayers()) {
                ArrayNode a = rows.putArray(layer.name());
                for (float v : sums.scalerRow(layer.tapKey())) {
                    a.add(v);
                }
            }
        }
        out.put("peak_rss_mib", PeakMemory.peakResidentMiB());
        out.put("load_average", PeakMemory.loadAverage());
        return out;
    }

    /**
     * The windows in {@code workers} contiguous shards, each on its own thread through the one
     * model (thread-safe), merged as Spark's driver merges shards: what stage one does in one
     * executor with {@code workers} task slots, without Spark.
     */
    static TapSums forward(LlamaModel model, List<int[]> windows, int batchSize, int workers) {
        if (workers == 1) {
            return model.forward(windows, batchSize);
        }
        ExecutorService pool = Executors.newFixedThreadPool(workers);
        try {
            List<Future<TapSums>> parts = new ArrayList<>();
            for (int i = 0; i < workers; i++) {
                List<int[]> shard = windows.subList(i * windows.size() / workers, (i + 1) * windows.size() / workers);
                parts.add(pool.submit(() -> model.forward(shard, batchSize)));
            }
            TapSums sums = TapSums.empty();
            for (Future<TapSums> p : parts) {
                sums = sums.merge(p.get());
            }
            return sums;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("forward failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdown();
        }
    }
}
