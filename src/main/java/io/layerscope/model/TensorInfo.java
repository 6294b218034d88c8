package io.layerscope.model;

import java.util.Arrays;

/**
 * One tensor's entry in a safetensors header. {@code begin} and {@code end} are absolute byte
 * positions in the file (header offsets plus the data section start).
 */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {

    public long numel() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    public long byteLength() {
        return end - begin;
    }

    public int rows() {
        return Math.toIntExact(shape[0]);
    }

    public int cols() {
        return Math.toIntExact(shape[1]);
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }
}
