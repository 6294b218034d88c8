package io.layerscope.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.layerscope.LayerscopeException;
import io.layerscope.model.LlamaConfig;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * Where a forward pass finds each decoder block's weights, one block at a time ({@link #acquire}).
 * Two kinds:
 * <ul>
 * <li>{@link #resident}: every block read once at load and held for the model's life.</li>
 * <li>{@link #streamed}: only the norms are held; the four Linear weights of a block (q/k/v,
 *     o, gate/up, down) are read from the checkpoint and widened into a reused set of float32
 *     arrays each time a pass reaches the block. A 16-bit checkpoint then never becomes float32
 *     all at once: the load reads nothing but the norms, and the float32 a pass writes lands in the
 *     same pages block after block, instead of gigabytes of fresh memory (the load's cost on a
 *     virtual machine, docs/PERFORMANCE.md). The price is one widening per block per pass, which
 *     is why {@link LlamaModel}'s forward runs a group of batches through a block before the next.
 *     Each concurrent pass takes its own set of arrays from a pool; sets are made on demand and
 *     kept for the model's life.</li>
 * </ul>
 * Both give the same floats: the stored values widened exactly.
 */
abstract class BlockSource implements AutoCloseable {

    /** One block's weights for one use; close it when the pass leaves the block. */
    interface Lease extends AutoCloseable {
        DecoderBlock block();

        @Override
        void close();
    }

    /** Block {@code index}'s weights until the lease is closed. */
    abstract Lease acquire(int index);

    @Override
    public void close() {
    }

    /** Blocks {@code 0..lastBlock} read now and held. */
    static BlockSource resident(WeightReader weights, int lastBlock, LlamaConfig config) {
        List<DecoderBlock> blocks = new ArrayList<>();
        for (int i = 0; i <= lastBlock; i++) {
            blocks.add(new DecoderBlock(i, BlockWeights.load(weights, i), config));
        }
        return new BlockSource() {
            @Override
            Lease acquire(int index) {
                DecoderBlock block = blocks.get(index);
                return new Lease() {
                    @Override
                    public DecoderBlock block() {
                        return block;
                    }

                    @Override
                    public void close() {
                    }
                };
            }
        };
    }

    /**
     * Blocks {@code 0..lastBlock} widened per use by {@code weights} (host route;
     * this source closes it), their arrays in sub-managers of {@code manager}.
     */
    static BlockSource streamed(WeightReader weights, NDManager manager, int lastBlock, LlamaConfig config) {
        if (!weights.widensOnHost()) {
            throw new IllegalArgumentException("streamed blocks are widened on the host; this reader fills the device");
        }
        return new Streamed(weights, manager, lastBlock, config);
    }

    private static final class Streamed extends BlockSource {
        private final WeightReader weights;
        private final NDManager manager;
        private final LlamaConfig config;
        private final List<NDArray[]> norms = new ArrayList<>();
        private final Deque<Buffers> free = new ConcurrentLinkedDeque<>();

        Streamed(WeightReader weights, NDManager manager, int lastBlock, LlamaConfig config) {
            this.weights = weights;
            this.manager = manager;
            this.config = config;
            String[][] first = BlockWeights.linearNames(0);
            for (int i = 0; i <= lastBlock; i++) {
                String[] n = BlockWeights.normNames(i);
                norms.add(new NDArray[] {weights.weight(n[0]), weights.weight(n[1])});
                // every block must have block 0's shapes (the buffers'), or a refill would fail mid-pass
                String[][] linear = BlockWeights.linearNames(i);
                for (int k = 0; k < linear.length; k++) {
                    Shape shape = weights.stackedShape(linear[k]);
                    Shape expected = weights.stackedShape(first[k]);
                    if (!shape.equals(expected)) {
                        throw new LayerscopeException("block " + i + "'s " + linear[k][0] + " and the blocks before it"
                                + " have shapes " + shape + " and " + expected + "; every LLaMA block has the same shapes");
                    }
                }
            }
        }

        @Override
        Lease acquire(int index) {
            Buffers buffers = free.pollFirst();
            if (buffers == null) {
                buffers = new Buffers(manager.newSubManager(), weights, BlockWeights.linearNames(0));
            }
            Buffers taken = buffers;
            try {
                String[][] names = BlockWeights.linearNames(index);
                for (int k = 0; k < names.length; k++) {
                    weights.refill(taken.arrays[k], names[k]);
                }
            } catch (RuntimeException e) {
                free.addFirst(taken);
                throw e;
            }
            NDArray[] n = norms.get(index);
            DecoderBlock block = new DecoderBlock(index, new BlockWeights(n[0], taken.arrays[0], taken.arrays[1], n[1],
                    taken.arrays[2], taken.arrays[3]), config);
            return new Lease() {
                private boolean open = true;

                @Override
                public DecoderBlock block() {
                    return block;
                }

                @Override
                public void close() {
                    if (open) {
                        open = false;
                        free.addFirst(taken);
                    }
                }
            };
        }

        /** One pass's float32 arrays for q/k/v, o, gate/up and down (each refill advises them for huge pages). */
        private static final class Buffers {
            final NDArray[] arrays;

            Buffers(NDManager owner, WeightReader weights, String[][] names) {
                arrays = new NDArray[names.length];
                for (int k = 0; k < names.length; k++) {
                    arrays[k] = DeviceArrays.empty(owner, weights.stackedShape(names[k]), DataType.FLOAT32);
                }
            }
        }

        @Override
        public void close() {
            weights.close();
        }
    }
}
