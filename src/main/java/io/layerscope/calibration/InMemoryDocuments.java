package io.layerscope.calibration;

import java.util.List;
import java.util.Objects;

/** Documents held as Java strings: fine for a few thousand small texts, not for a C4 shard. */
final class InMemoryDocuments implements Documents {
    private final List<String> texts;

    InMemoryDocuments(List<String> texts) {
        for (int i = 0; i < texts.size(); i++) {
            Objects.requireNonNull(texts.get(i), () -> "document text is null");
        }
        this.texts = List.copyOf(texts);
    }

    @Override
    public int size() {
        return texts.size();
    }

    @Override
    public String text(int index) {
        return texts.get(index);
    }

    @Override
    public void close() {
        // nothing to release
    }
}
