package io.layerscope.results;

import java.io.Serializable;

/**
 * A layer's picture and its thumbnail as PNG bytes, as the per-layer stage draws them; or, once the
 * driver has written both into the results being made, only the fact that they are there (the
 * bytes are let go: a large model's pictures would otherwise wait on the driver's heap until the end,
 * about 0.8 MB a layer).
 */
public record LayerPicture(byte[] png, byte[] thumbnail) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** A picture written into the results already. */
    public static final LayerPicture WRITTEN = new LayerPicture(null, null);

    public LayerPicture {
        if ((png == null) != (thumbnail == null)) {
            throw new IllegalArgumentException("a layer's picture and its thumbnail come together");
        }
    }

    /** Whether the bytes were written out and let go. */
    public boolean written() {
        return png == null;
    }
}
