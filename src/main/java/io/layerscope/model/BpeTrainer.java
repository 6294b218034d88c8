package io.layerscope.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Learns byte-level BPE merges from text, deterministically: the text is split with Llama 3's
 * pre-tokenizer pattern, each piece spelled in {@link ByteLevelAlphabet} symbols, and each round
 * merges the most frequent adjacent pair (ties: the pair of smaller token ids, bytes having ids
 * 0-255 in byte order and merged tokens 256 onwards in merge order). A pair whose concatenation is
 * already a token is never chosen, so every merge adds a new token.
 *
 * <pre>{@code
 * List<String[]> merges = BpeTrainer.train(List.of("abab abab ab"), 3);   // [a b], [Ġ ab], [ab ab]
 * }</pre>
 */
public final class BpeTrainer {
    /** The pre-tokenizer pattern of Llama 3's tokenizer.json (Split, behaviour Isolated). */
    public static final String LLAMA3_SPLIT_PATTERN =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    // Unicode classes, as the Rust regex engine of tokenizers uses them
    private static final Pattern SPLIT = Pattern.compile(LLAMA3_SPLIT_PATTERN, Pattern.UNICODE_CHARACTER_CLASS);

    private BpeTrainer() {
    }

    /** The pieces the pre-tokenizer cuts {@code text} into, in order. */
    public static List<String> preTokenize(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = SPLIT.matcher(text);
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }

    /** Up to {@code merges} merges, each as {left, right} token strings, in the order learned. */
    public static List<String[]> train(Iterable<String> texts, int merges) {
        Map<String, Integer> wordCounts = new LinkedHashMap<>();
        for (String text : texts) {
            for (String piece : preTokenize(text)) {
                wordCounts.merge(ByteLevelAlphabet.encode(piece), 1, Integer::sum);
            }
        }
        List<String> tokens = new ArrayList<>();
        Map<String, Integer> ids = new HashMap<>();
        for (int b = 0; b < 256; b++) {
            String s = String.valueOf(ByteLevelAlphabet.symbol(b));
            tokens.add(s);
            ids.put(s, b);
        }
        List<int[]> words = new ArrayList<>();
        int[] counts = new int[wordCounts.size()];
        for (Map.Entry<String, Integer> e : wordCounts.entrySet()) {
            String w = e.getKey();
            int[] sym = new int[w.length()];
            for (int i = 0; i < sym.length; i++) {
                sym[i] = ids.get(String.valueOf(w.charAt(i)));
            }
            counts[words.size()] = e.getValue();
            words.add(sym);
        }

        // pair counts over all words, and the words each pair was ever seen in (kept up to date
        // only by adding: a word listed under a pair it no longer has is simply left unchanged)
        Map<Long, Long> pairCounts = new HashMap<>();
        Map<Long, Set<Integer>> pairWords = new HashMap<>();
        for (int w = 0; w < words.size(); w++) {
            count(words.get(w), counts[w], w, pairCounts, pairWords);
        }
        List<String[]> out = new ArrayList<>();
        while (out.size() < merges) {
            long best = bestPair(pairCounts, tokens, ids);
            if (best < 0) {
                break;
            }
            int left = (int) (best >>> 32);
            int right = (int) best;
            int merged = tokens.size();
            tokens.add(tokens.get(left) + tokens.get(right));
            ids.put(tokens.get(merged), merged);
            out.add(new String[] {tokens.get(left), tokens.get(right)});
            for (int w : new TreeSet<>(pairWords.remove(best))) {
                int[] before = words.get(w);
                int[] after = apply(before, left, right, merged);
                if (after != before) {
                    count(before, -counts[w], -1, pairCounts, null);
                    count(after, counts[w], w, pairCounts, pairWords);
                    words.set(w, after);
                }
            }
        }
        return out;
    }

    /** Adds {@code weight} to the count of every adjacent pair of {@code sym}; records word {@code w} under each. */
    private static void count(int[] sym, long weight, int w, Map<Long, Long> pairCounts, Map<Long, Set<Integer>> pairWords) {
        for (int i = 0; i + 1 < sym.length; i++) {
            long pair = ((long) sym[i] << 32) | sym[i + 1];
            long n = pairCounts.merge(pair, weight, Long::sum);
            if (n == 0) {
                pairCounts.remove(pair);
            }
            if (pairWords != null) {
                pairWords.computeIfAbsent(pair, k -> new HashSet<>()).add(w);
            }
        }
    }

    /** The most frequent pair as {@code left << 32 | right}, or -1 when no pair occurs twice. */
    private static long bestPair(Map<Long, Long> pairCounts, List<String> tokens, Map<String, Integer> ids) {
        long best = -1;
        long bestCount = 0;
        for (Map.Entry<Long, Long> e : pairCounts.entrySet()) {
            long pair = e.getKey();
            long n = e.getValue();
            boolean better = n > bestCount || (n == bestCount && pair < best);
            if (n < 2 || !better || ids.containsKey(tokens.get((int) (pair >>> 32)) + tokens.get((int) pair))) {
                continue;
            }
            best = pair;
            bestCount = n;
        }
        return best;
    }

    private static int[] apply(int[] sym, int left, int right, int merged) {
        int n = 0;
        int[] out = null;
        for (int i = 0; i < sym.length; i++) {
            if (i + 1 < sym.length && sym[i] == left && sym[i + 1] == right) {
                if (out == null) {
                    out = new int[sym.length - 1];
                    System.arraycopy(sym, 0, out, 0, i);
                    n = i;
                }
                out[n++] = merged;
                i++;
            } else if (out != null) {
                out[n++] = sym[i];
            }
        }
        return out == null ? sym : Arrays.copyOf(out, n);
    }
}
