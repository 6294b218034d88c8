package io.layerscope.llama;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.layerscope.model.LayerKind;
import io.layerscope.model.LlamaConfig;
import io.layerscope.prune.BlockMasks;
import io.layerscope.prune.LayerMask;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.function.Supplier;

/**
 * The pruned copies of decoder blocks an executor builds from broadcast masks (W with its masked
 * entries set to +0, as Wanda's {@code W[mask] = 0}), one per round's id, so every batch
 * of a round reuses one copy. Keeps the two most recent: a round's tasks use one, and a task
 * recomputing an earlier round after an executor loss may need another.
 */
final class PrunedBlocks {
    private static final int KEPT = 2;
    /** Mask entries sent to the device per step: bounds the host scratch for any layer size. */
    private static final int SLICE_ENTRIES = 1 << 24;

    private record Entry(DecoderBlock block, NDManager manager) {
    }

    private final NDManager model;
    private final LlamaConfig config;
    private final LinkedHashMap<String, Entry> byId = new LinkedHashMap<>();

    PrunedBlocks(NDManager model, LlamaConfig config) {
        this.model = model;
        this.config = config;
    }

    /** The pruned copy of {@code dense} for the masks named {@code id}; {@code masks} is called only to build it. */
    synchronized DecoderBlock get(String id, Supplier<BlockMasks> masks, DecoderBlock dense) {
        Entry e = byId.get(id);
        if (e == null) {
            BlockMasks built = masks.get();
            if (built.block() != dense.index()) {
                throw new IllegalArgumentException("masks of block " + built.block() + " for block " + dense.index());
            }
            NDManager m = model.newSubManager();
            try {
                e = new Entry(dense.with(pruned(m, dense.weights(), built), config), m);
            } catch (RuntimeException ex) {
                m.close();
                throw ex;
            }
            byId.put(id, e);
            while (byId.size() > KEPT) {
                String oldest = byId.keySet().iterator().next();
                byId.remove(oldest).manager().close();
            }
        }
        return e.block();
    }

    private static BlockWeights pruned(NDManager m, BlockWeights w, BlockMasks masks) {
        return new BlockWeights(w.inputNorm(),
                zeroed(m, w.qkv(), masks.mask(LayerKind.Q_PROJ), masks.mask(LayerKind.K_PROJ), masks.mask(LayerKind.V_PROJ)),
                zeroed(m, w.o(), masks.mask(LayerKind.O_PROJ)),
                w.postNorm(),
                zeroed(m, w.gateUp(), masks.mask(LayerKind.GATE_PROJ), masks.mask(LayerKind.UP_PROJ)),
                zeroed(m, w.down(), masks.mask(LayerKind.DOWN_PROJ)));
    }

    /**
     * {@code fused} (the parts' rows stacked, as BlockWeights holds them) with every masked entry +0,
     * in {@code m}. float32 on the CPU: a copy, zeroed in place. Otherwise (a GPU, float16):
     * torch.where, its condition written straight into a CPU tensor's storage a slice of rows at a
     * time from the packed bits (one host scratch of {@link #SLICE_ENTRIES} bytes whatever the
     * layer) and sent to the device whole, its zero one scalar broadcast to the weight's shape.
     */
    private static NDArray zeroed(NDManager m, NDArray fused, LayerMask... parts) {
        long rows = 0;
        for (LayerMask part : parts) {
            rows += part.out();
            if (part.in() != fused.getShape().get(1)) {
                throw new IllegalArgumentException("masks of " + part.in() + " columns for weights of " + fused.getShape());
            }
        }
        if (fused.getShape().dimension() != 2 || rows != fused.getShape().get(0)) {
            throw new IllegalArgumentException("masks of " + rows + " rows for weights of " + fused.getShape());
        }
        if (fused.getDevice().getDeviceType().equals(Device.Type.CPU) && fused.getDataType() == DataType.FLOAT32) {
            // on the host, zeroing the copy's masked entries in place writes a few bytes per pruned
            // entry, where torch.where writes a new array after reading a condition as large
            NDArray out = DeviceArrays.empty(m, fused.getShape(), DataType.FLOAT32);
            // a contiguous CPU tensor's toByteBuffer(true) is a direct view of its storage (a new
            // array is contiguous; the dense weight is read through a contiguous copy if it is not)
            ByteBuffer storage = out.toByteBuffer(true);
            storage.put(fused.toByteBuffer(true));
            FloatBuffer values = storage.rewind().asFloatBuffer();
            int offset = 0;
            for (LayerMask part : parts) {
                part.zeroPruned(values, offset);
                offset += part.out() * part.in();
            }
            return out;
        }
        try (NDManager scratch = m.newSubManager()) {
            NDArray cpu = DeviceArrays.empty(scratch.newSubManager(Device.cpu()), fused.getShape(), DataType.BOOLEAN);
            // a contiguous CPU tensor's toByteBuffer(true) is a direct view of its storage
            ByteBuffer storage = cpu.toByteBuffer(true);
            byte[] slice = new byte[(int) Math.min(SLICE_ENTRIES, fused.size())];
            for (LayerMask part : parts) {
                int rowsPerSlice = Math.max(1, slice.length / part.in());
                for (int first = 0; first < part.out(); first += rowsPerSlice) {
                    int n = Math.min(rowsPerSlice, part.out() - first);
                    part.prunedRows(first, n, slice);
                    storage.put(slice, 0, n * part.in());
                }
            }
            NDArray mask = cpu.toDevice(m.getDevice(), true);
            mask.attach(scratch);
            // one zero seen at every position (a view, nothing allocated): DJL's where wants equal shapes
            NDArray zero = DeviceArrays.zeros(scratch, new Shape(), fused.getDataType()).broadcast(fused.getShape());
            NDArray out = NDArrays.where(mask, zero, fused);
            out.attach(m);
            return out;
        }
    }
}
