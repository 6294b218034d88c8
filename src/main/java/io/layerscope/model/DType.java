package io.layerscope.model;

import io.layerscope.LayerscopeException;

/** The safetensors element types layerscope knows, with their width in bytes. */
public enum DType {
    BF16(2), F16(2), F32(4), F64(8), I64(8), I32(4), I16(2), I8(1), U8(1), BOOL(1);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    /** True for the types a weight may have (they widen exactly or nearly to float32). */
    public boolean isFloating() {
        return this == BF16 || this == F16 || this == F32 || this == F64;
    }

    /** True for the types the forward pass loads as weights (F64 is floating but not loaded). */
    public boolean isLoadable() {
        return this == BF16 || this == F16 || this == F32;
    }

    /** Parses the header spelling; {@code where} names the file and tensor for the error message. */
    public static DType parse(String name, String where) {
        for (DType t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        throw new LayerscopeException(where + ": unknown safetensors dtype \"" + name
                + "\" (known: BF16, F16, F32, F64, I64, I32, I16, I8, U8, BOOL)");
    }
}
