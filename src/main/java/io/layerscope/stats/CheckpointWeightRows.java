package io.layerscope.stats;

import io.layerscope.LayerscopeException;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.TensorInfo;
import java.util.Arrays;

/**
 * A layer's weight read from the checkpoint a run of rows at a time, widened to float32 into
 * scratch of the calling thread. The statistics ask for each chunk of rows once per pass, so a
 * weight is read three times (from the page cache, at its stored width) instead of held whole as
 * float32: lm_head of Llama 3 would be a 1 GiB array, and each new array is fresh memory the kernel
 * must zero and the collector may copy. Each thread's scratch holds one chunk and is reused from
 * layer to layer.
 */
public record CheckpointWeightRows(Checkpoint checkpoint, String tensor, int out, int in) implements WeightRows {
    private static final ThreadFloats SCRATCH = new ThreadFloats();

    /**
     * @throws LayerscopeException if the tensor is not a floating [out, in] matrix
     */
    public CheckpointWeightRows {
        TensorInfo t = checkpoint.tensor(tensor);
        long[] shape = t.shape();
        if (!t.dtype().isFloating() || shape.length != 2 || shape[0] != out || shape[1] != in) {
            throw new LayerscopeException("layer weight " + tensor + " is " + t.dtype() + " of "
                    + Arrays.toString(shape) + " but the layer needs floating [" + out + ", " + in
                    + "]. Check that the tensor read matches the layer's shape in the checkpoint.");
        }
    }

    @Override
    public Run rows(int from, int to) {
        if (from < 0 || to > out || from >= to) {
            throw new IndexOutOfBoundsException("rows [" + from + ", " + to + ") of " + out);
        }
        int count = (to - from) * in;
        float[] scratch = SCRATCH.atLeast(count);
        checkpoint.readFloats(tensor, (long) from * in, count, scratch);
        return new Run(scratch, 0);
    }
}
