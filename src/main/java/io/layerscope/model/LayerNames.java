package io.layerscope.model;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Suggests valid layer names for a mistyped or shortened one: first those holding more of its dotted
 * parts ({@code layers.1.q_proj} is most of {@code model.layers.1.self_attn.q_proj}, though far from it
 * by edit distance), then by edit distance.
 */
public final class LayerNames {
    private LayerNames() {
    }

    public static List<String> closest(String wanted, List<String> names, int n) {
        return names.stream()
                .sorted(Comparator.comparingInt((String s) -> partsMissing(wanted, s))
                        .thenComparingInt(s -> distance(wanted, s)).thenComparing(s -> s))
                .limit(n)
                .toList();
    }

    /** How many of {@code wanted}'s dotted parts {@code name} lacks (a part of 4 or more characters one typo off counts as there). */
    static int partsMissing(String wanted, String name) {
        List<String> parts = Arrays.asList(name.split("\\."));
        int missing = 0;
        for (String p : wanted.split("\\.")) {
            boolean there = parts.contains(p)
                    || p.length() >= 4 && parts.stream().anyMatch(q -> distance(p, q) <= 1);
            missing += there ? 0 : 1;
        }
        return missing;
    }

    /** Levenshtein distance. */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
