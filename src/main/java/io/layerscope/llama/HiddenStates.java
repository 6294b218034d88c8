package io.layerscope.llama;

import io.layerscope.model.HalfFloats;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The residual stream of a batch of calibration sequences between two decoder blocks, on the host:
 * what Wanda's prune_wanda keeps in {@code inps}/{@code outs} from one block to the next. Spark keeps
 * these across the block rounds of a sequential sweep (persisted, recomputed from lineage if an
 * executor is lost), so they are plain bytes in the compute type.
 *
 * @param firstSample the global index of the batch's first sequence
 * @param sequences   sequences in the batch
 * @param tokens      tokens per sequence
 * @param hidden      hidden size
 * @param float16     whether the bytes are float16 (else float32), native byte order
 */
public record HiddenStates(int firstSample, int sequences, int tokens, int hidden, boolean float16, byte[] data)
        implements Serializable {
    private static final long serialVersionUID = 1L;

    public HiddenStates {
        long expected = (long) sequences * tokens * hidden * (float16 ? 2 : 4);
        if (data.length != expected) {
            throw new IllegalArgumentException("hidden states of " + sequences + "x" + tokens + "x" + hidden + " need "
                    + expected + " bytes, got " + data.length);
        }
    }

    /** The global calibration sample index of each sequence, in batch order. */
    public int[] samples() {
        int[] out = new int[sequences];
        for (int s = 0; s < sequences; s++) {
            out[s] = firstSample + s;
        }
        return out;
    }

    /** The states as float32, [sequences, tokens, hidden] row-major (float16 widens exactly). */
    public float[] floats() {
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.nativeOrder());
        float[] out = new float[sequences * tokens * hidden];
        if (float16) {
            for (int i = 0; i < out.length; i++) {
                out[i] = HalfFloats.f16ToFloat(b.getShort());
            }
        } else {
            b.asFloatBuffer().get(out);
        }
        return out;
    }
}
