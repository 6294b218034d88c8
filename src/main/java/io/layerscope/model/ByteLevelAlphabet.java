package io.layerscope.model;

import java.nio.charset.StandardCharsets;

/**
 * GPT-2's byte-to-unicode table, which byte-level BPE tokenizers (GPT-2, Llama 3) use to spell
 * every byte as one printable character: printable Latin-1 bytes stand for themselves, the other
 * 68 bytes map to U+0100 onwards in byte order (so a space is {@code Ġ}, U+0120).
 */
public final class ByteLevelAlphabet {
    private static final char[] SYMBOL = new char[256];

    static {
        int next = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            SYMBOL[b] = printable ? (char) b : (char) (256 + next++);
        }
    }

    private ByteLevelAlphabet() {
    }

    /** The character that stands for byte {@code b} (0-255). */
    public static char symbol(int b) {
        return SYMBOL[b & 0xff];
    }

    /** The UTF-8 bytes of {@code text}, each spelled as its symbol. */
    public static String encode(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = symbol(bytes[i]);
        }
        return new String(out);
    }
}
