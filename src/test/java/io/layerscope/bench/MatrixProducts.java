package io.layerscope.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.layerscope.model.LlamaConfig;
import java.io.PrintStream;
import java.util.List;

/**
 * The forward's matrix products alone, in libtorch through DJL: one block's four linear products
 * (q/k/v together, o, gate/up together, down) on {@link BenchWorkload#SEQLEN} tokens, float32, as
 * the forward runs them. The peer measures the same shapes in its torch ({@code bench_peer.py
 * --matmul}), so the report can tell the BLAS libraries apart from everything else in the forward.
 */
public final class MatrixProducts {
    private static final int CALLS = 40;

    private MatrixProducts() {
    }

    /** One product: tokens x in times (out x in) transposed. */
    record Product(String name, int in, int out) {
        double flops(int tokens) {
            return 2.0 * tokens * in * out;
        }
    }

    /** The four products of one decoder block of {@code c}. */
    static List<Product> products(LlamaConfig c) {
        int q = c.numAttentionHeads() * c.headDim();
        int kv = c.numKeyValueHeads() * c.headDim();
        return List.of(new Product("qkv", c.hiddenSize(), q + 2 * kv), new Product("o", q, c.hiddenSize()),
                new Product("gate_up", c.hiddenSize(), 2 * c.intermediateSize()),
                new Product("down", c.intermediateSize(), c.hiddenSize()));
    }

    /** Best-of-{@code repeat} GFLOP/s per product and for the four in a row, on {@code threads} libtorch threads. */
    public static ObjectNode measure(BenchWorkload workload, int threads, int repeat, PrintStream err) {
        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        Engine.getEngine("PyTorch");
        LlamaConfig config = LlamaConfig.read(workload.modelDir().resolve("config.json"));
        int tokens = BenchWorkload.SEQLEN;
        ObjectNode out = new ObjectMapper().createObjectNode();
        out.put("threads", threads);
        out.put("tokens", tokens);
        ArrayNode rows = out.putArray("products");
        double blockSeconds = 0;
        double blockFlops = 0;
        try (NDManager manager = NDManager.newBaseManager()) {
            for (Product p : products(config)) {
                NDArray x = manager.randomNormal(new Shape(tokens, p.in()));
                NDArray w = manager.randomNormal(new Shape(p.out(), p.in()));
                time(x, w, CALLS);   // warm-up
                double best = Double.MAX_VALUE;
                for (int r = 0; r < repeat; r++) {
                    best = Math.min(best, time(x, w, CALLS) / CALLS);
                }
                double gflops = p.flops(tokens) / best / 1e9;
                err.printf("bench matmul: %s %d x %d x %d: %.1f GFLOP/s%n", p.name(), tokens, p.in(), p.out(), gflops);
                rows.addObject().put("name", p.name()).put("in", p.in()).put("out", p.out()).put("gflops", gflops);
                blockSeconds += best;
                blockFlops += p.flops(tokens);
            }
        }
        out.put("block_gflops", blockFlops / blockSeconds / 1e9);
        out.put("load_average", PeakMemory.loadAverage());
        return out;
    }

    private static double time(NDArray x, NDArray w, int calls) {
        long t0 = System.nanoTime();
        for (int i = 0; i < calls; i++) {
            try (NDList y = Linear.linear(x, w)) {
                y.singletonOrThrow();
            }
        }
        return (System.nanoTime() - t0) / 1e9;
    }
}
