package io.layerscope.calibration;

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
}
