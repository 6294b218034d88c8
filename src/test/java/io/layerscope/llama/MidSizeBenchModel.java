package io.layerscope.llama;

import ai.djl.Device;
import io.layerscope.FileTrees;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.DType;
import io.layerscope.model.SyntheticLlama;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The forward benchmarks' mid-size checkpoint: jobs/bench's shape (hidden 512, 8 layers, 8/2 heads,
 * intermediate 1408, Llama 3's vocabulary, bf16) without its planted outlier features, written into
 * a temporary directory that closing removes.
 *
 * <pre>{@code
 * try (MidSizeBenchModel m = MidSizeBenchModel.write(); LlamaModel model = m.load()) { ... }
 * }</pre>
 */
record MidSizeBenchModel(Path dir, Checkpoint checkpoint) implements AutoCloseable {
    /** The shape, for a benchmark that writes it itself. */
    static SyntheticLlama shape() {
        return SyntheticLlama.builder().hidden(512).intermediate(1408).layers(8).heads(8).kvHeads(2).vocab(128256)
                .dtype(DType.BF16);
    }

    static MidSizeBenchModel write() throws IOException {
        Path dir = Files.createTempDirectory("layerscope-bench");
        return new MidSizeBenchModel(dir, Checkpoint.open(shape().write(dir)));
    }

    /** The model on the CPU, computing in float32. */
    LlamaModel load() {
        return LlamaModel.load(checkpoint, Device.cpu(), ComputeDtype.FLOAT32);
    }

    @Override
    public void close() throws IOException {
        FileTrees.deleteRecursively(dir);
    }
}
