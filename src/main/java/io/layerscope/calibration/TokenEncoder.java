package io.layerscope.calibration;

import java.util.List;

/**
 * Text to token ids, as Hugging Face's {@code tokenizer(text).input_ids}: special tokens added
 * (Llama 3 prepends BOS 128000), never truncated, never padded. Wanda's sampling needs each
 * document's full length, so an implementation must not cut long texts.
 *
 * <pre>{@code
 * TokenEncoder encoder = HuggingFaceTokenEncoder.forPath(Path.of("llm_weights/Llama-3.2-1B"));
 * int[] ids = encoder.encode("Hello world");   // [128000, 9906, 1917]
 * }</pre>
 */
@FunctionalInterface
public interface TokenEncoder {

    /** The token ids of {@code text}, special tokens included. */
    int[] encode(String text);

    /** The token ids of each text, in order; an encoder that tokenizes on several cores at once overrides this. */
    default List<int[]> encodeAll(List<String> texts) {
        return texts.stream().map(this::encode).toList();
    }

    /** How many texts {@link #encodeAll} takes at a time to keep its cores busy (1: no gain from batches). */
    default int batchSize() {
        return 1;
    }
}
