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
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * The pruned copies of decoder blocks an executor builds from broadcast masks (W with its masked
 * entries set to +0, as Wanda's {@code W[mask] = 0}), one per round's id, so every batch
 * of a round reuses one copy. Keeps the two most recent: a round's tasks use one, and a task
 * recomputing an earlier round after an executor loss may need another.
 *
 * <p>A pass holds its copy through a {@link Lease}: a copy dropped from the two while a pass still
 * runs on it stays intact until that pass closes its lease. On a CPU computing in float32 the
 * arrays of a copy no pass holds any more are overwritten by the next round's copy: the first
 * touch of fresh memory costs far more than the copy itself (docs/PERFORMANCE.md), and every
 * block of a LLaMA has the same shapes.
 */
final class PrunedBlocks {
    private static final int KEPT = 2;
    /** Mask entries sent to the device per step: bounds the host scratch for any layer size. */
    private static final int SLICE_ENTRIES = 1 << 24;

    /** A round's pruned block for one pass; close it when the pass leaves the block. */
    interface Lease extends AutoCloseable {
        DecoderBlock block();

        @Override
        void close();
    }

    /** A copy, its arrays' manager, how many passes hold it and whether it was dropped from the kept ones. */
    private static final class Entry {
        final DecoderBlock block;
        final NDManager manager;
        int users;
        boolean dropped;

        Entry(DecoderBlock block, NDManager manager) {
            this.block = block;
            this.manager = manager;
        }
    }

    private final NDManager model;
    private final LlamaConfig config;
    private final LinkedHashMap<String, Entry> byId = new LinkedHashMap<>();
    /** A dropped copy no pass holds, whose float32 arrays the next copy overwrites (at most one kept). */
    private Entry spare;

    PrunedBlocks(NDManager model, LlamaConfig config) {
        this.model = model;
        this.config = config;
    }

    /**
     * The pruned copy of block {@code block} for the masks named {@code id}, held until the lease is
     * closed. Only to build it are {@code masks} called and the dense block leased from {@code dense}.
     */
    synchronized Lease get(String id, Supplier<BlockMasks> masks, int block, IntFunction<BlockSource.Lease> dense) {
        Entry e = byId.get(id);
        if (e == null) {
            while (byId.size() >= KEPT) {
                String oldest = byId.keySet().iterator().next();
                drop(byId.remove(oldest));
            }
            e = build(masks, block, dense);
            byId.put(id, e);
        }
        e.users++;
        return lease(e);
    }

    private Entry build(Supplier<BlockMasks> masks, int block, IntFunction<BlockSource.Lease> dense) {
        BlockMasks built = masks.get();
        if (built.block() != block) {
            throw new IllegalArgumentException("masks of block " + built.block() + " for block " + block);
        }
        Entry reused = spare;
        spare = null;
        NDManager m = reused != null ? reused.manager : model.newSubManager();
        try (BlockSource.Lease d = dense.apply(block)) {
            DecoderBlock denseBlock = d.block();
            BlockWeights into = reused != null ? reused.block.weights() : null;
            return new Entry(denseBlock.with(pruned(m, denseBlock.weights(), into, built), config), m);
        } catch (RuntimeException ex) {
            m.close();
            throw ex;
        }
    }

    private Lease lease(Entry e) {
        return new Lease() {
            private boolean open = true;

            @Override
            public DecoderBlock block() {
                return e.block;
            }

            @Override
            public void close() {
                synchronized (PrunedBlocks.this) {
                    if (open) {
                        open = false;
                        e.users--;
                        if (e.users == 0 && e.dropped) {
                            recycle(e);
                        }
                    }
                }
            }
        };
    }

    /** {@code e} is no longer one of the kept copies: recycled now, or when its last pass leaves it. */
    private void drop(Entry e) {
        e.dropped = true;
        if (e.users == 0) {
            recycle(e);
        }
    }

    /** Keeps a free copy's arrays for the next copy where they can be overwritten, else frees them. */
    private void recycle(Entry e) {
        if (spare == null && overwritable(e.block.weights().gateUp())) {
            spare = e;
        } else {
            e.manager.close();
        }
    }

    private static boolean overwritable(NDArray a) {
        return a.getDevice().getDeviceType().equals(Device.Type.CPU) && a.getDataType() == DataType.FLOAT32;
    }

    /** The pruned weights of {@code w}, written into {@code into}'s arrays where not null (the float32 CPU path). */
    private static BlockWeights pruned(NDManager m, BlockWeights w, BlockWeights into, BlockMasks masks) {
        return new BlockWeights(w.inputNorm(),
                zeroed(m, w.qkv(), into == null ? null : into.qkv(),
                        masks.mask(LayerKind.Q_PROJ), masks.mask(LayerKind.K_PROJ), masks.mask(LayerKind.V_PROJ)),
                zeroed(m, w.o(), into == null ? null : into.o(), masks.mask(LayerKind.O_PROJ)),
                w.postNorm(),
                zeroed(m, w.gateUp(), into == null ? null : into.gateUp(),
                        masks.mask(LayerKind.GATE_PROJ), masks.mask(LayerKind.UP_PROJ)),
                zeroed(m, w.down(), into == null ? null : into.down(), masks.mask(LayerKind.DOWN_PROJ)));
    }

    /**
     * {@code fused} (the parts' rows stacked, as BlockWeights holds them) with every masked entry +0,
     * in {@code m}. float32 on the CPU: a copy into {@code into} (a new array if null or of another
     * shape), zeroed in place. Otherwise (a GPU, float16):
     * torch.where, its condition written straight into a CPU tensor's storage a slice of rows at a
     * time from the packed bits (one host scratch of {@link #SLICE_ENTRIES} bytes whatever the
     * layer) and sent to the device whole, its zero one scalar broadcast to the weight's shape.
     */
    private static NDArray zeroed(NDManager m, NDArray fused, NDArray into, LayerMask... parts) {
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
        if (overwritable(fused)) {
            // on the host, zeroing the copy's masked entries in place writes a few bytes per pruned
            // entry, where torch.where writes a new array after reading a condition as large
            NDArray out = into;
            if (into == null || !into.getShape().equals(fused.getShape())) {
                if (into != null) {
                    into.close();
                }
                out = DeviceArrays.empty(m, fused.getShape(), DataType.FLOAT32);
            }
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
