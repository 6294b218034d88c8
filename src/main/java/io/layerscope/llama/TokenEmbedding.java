package io.layerscope.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.DType;
import io.layerscope.model.SafetensorsFile;
import io.layerscope.model.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The token embedding table and its lookup. Where the weights are widened on the host (float32 on
 * the CPU) and stored as bf16 or f16, the table stays as stored, in its memory map, and only the
 * rows a batch looks up are widened (exactly, as {@link HostWidening} widens): the model never holds
 * vocab x hidden floats, a fifth of a 1B model's float32 weights with Llama 3's 128256-token
 * vocabulary, and the stored rows are page-cache pages shared by every process mapping the file.
 * Otherwise (f32 weights, which are mapped as they are, a GPU, float16) the table is an array.
 */
final class TokenEmbedding {
    /** Bytes per mapping of the stored table: one mapping holds at most 2 GiB. */
    static final int MAPPING_BYTES = 1 << 30;

    private final NDArray table;
    private final ByteBuffer[] stored;
    private final DType dtype;
    private final int hidden;
    private final int rowsPerMapping;

    private TokenEmbedding(NDArray table, ByteBuffer[] stored, DType dtype, int hidden, int rowsPerMapping) {
        this.table = table;
        this.stored = stored;
        this.dtype = dtype;
        this.hidden = hidden;
        this.rowsPerMapping = rowsPerMapping;
    }

    /** Tensor {@code name} ([vocab, hidden]) as the embedding, kept as stored where {@code weights} widens on the host. */
    static TokenEmbedding load(WeightReader weights, Checkpoint ckpt, String name) {
        return load(weights, ckpt, name, MAPPING_BYTES);
    }

    static TokenEmbedding load(WeightReader weights, Checkpoint ckpt, String name, int mappingBytes) {
        TensorInfo info = ckpt.tensor(name);
        if (!weights.widensOnHost() || info.dtype() == DType.F32) {
            return new TokenEmbedding(weights.weight(name), null, info.dtype(), -1, -1);
        }
        long vocab = info.shape()[0];
        int hidden = Math.toIntExact(info.shape()[1]);
        int rowBytes = hidden * info.dtype().bytes();
        int rowsPerMapping = Math.max(1, mappingBytes / rowBytes);
        SafetensorsFile file = ckpt.fileOf(name);
        ByteBuffer[] stored = new ByteBuffer[Math.toIntExact((vocab + rowsPerMapping - 1) / rowsPerMapping)];
        for (int m = 0; m < stored.length; m++) {
            long first = (long) m * rowsPerMapping;
            stored[m] = file.mapRows(name, first, (int) Math.min(rowsPerMapping, vocab - first));
        }
        return new TokenEmbedding(null, stored, info.dtype(), hidden, rowsPerMapping);
    }

    /** The rows of {@code ids} (in range: the caller checked them) as an array of {@code shape} (ids' shape + hidden), in {@code batch}. */
    NDArray rows(NDManager batch, long[] ids, Shape shape) {
        if (table != null) {
            NDArray idArray = DeviceArrays.longs(batch, ids, shape.slice(0, shape.dimension() - 1));
            return Embedding.embedding(idArray, table, SparseFormat.DENSE).singletonOrThrow();
        }
        NDArray out = DeviceArrays.empty(batch, shape, DataType.FLOAT32);
        // a contiguous CPU tensor's direct buffer is a view of its storage
        ByteBuffer dst = out.toByteBuffer(true);
        int rowBytes = hidden * dtype.bytes();
        for (int i = 0; i < ids.length; i++) {
            ByteBuffer mapping = stored[(int) (ids[i] / rowsPerMapping)];
            ByteBuffer src = mapping.slice((int) (ids[i] % rowsPerMapping) * rowBytes, rowBytes).order(ByteOrder.LITTLE_ENDIAN);
            ByteBuffer row = dst.slice(i * hidden * Float.BYTES, hidden * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            HostWidening.widen(src, dtype, row, 0, hidden);
        }
        return out;
    }

    /** Whether the table is an array (held by the model's manager) rather than the stored rows. */
    boolean isArray() {
        return table != null;
    }
}
