package io.layerscope.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerscope.fixtures.TestRequirements;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BpeTrainerTest {
    @Test
    void learnsMergesOnAHandWorkedCorpus() {
        // Pieces: "abab", " abab", " ab" (space spelled Ġ).
        // Round 1: (a,b) occurs 5 times -> "ab".
        // Round 2: (ab,ab) 2 and (Ġ,ab) 2 tie; ids (32,256) < (256,256) -> "Ġab".
        // Round 3: (ab,ab) 1 and (Ġab,ab) 1: no pair occurs twice -> stop.
        List<String[]> merges = BpeTrainer.train(List.of("abab abab ab"), 10);
        assertEquals(List.of("a b", "Ġ ab"), merges.stream().map(m -> m[0] + " " + m[1]).toList());
    }

    @Test
    void countsEachPieceAsOftenAsItOccurs() {
        // Pieces "xy", " xy", " xy", " zzzz": (x,y) occurs 3 times, (z,z) 3 times within one piece,
        // (Ġ,x) twice. The tie between (x,y) and (z,z) goes to the smaller ids: 'x' 120 < 'z' 122.
        List<String[]> merges = BpeTrainer.train(List.of("xy xy xy zzzz"), 1);
        assertEquals("x y", merges.get(0)[0] + " " + merges.get(0)[1]);
    }

    @Test
    void neverLearnsATokenTwice() {
        // after "a b" and "ab c", the pair (b, c) would also spell "bc"... but "a bc" would respell "abc"
        List<String[]> merges = BpeTrainer.train(List.of("abc abc abc bcx bcx bcx bcx"), 20);
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (String[] m : merges) {
            assertEquals(true, seen.add(m[0] + m[1]), "token " + m[0] + m[1] + " learned twice");
        }
    }

    @Test
    void splitsTextAsLlama3sPreTokenizer() {
        // contractions split off, digits in threes, punctuation keeps its newlines, the last space joins the word
        assertEquals(List.of("Hello", " world", "'s", " ", "123", "45", ",", " it", "'s", "!\n\n", "  ", " x"),
                BpeTrainer.preTokenize("Hello world's 12345, it's!\n\n   x"));
    }

    @Test
    void spellsBytesWithGpt2sAlphabet() {
        assertEquals('Ġ', ByteLevelAlphabet.symbol(' '));
        assertEquals('Ċ', ByteLevelAlphabet.symbol('\n'));
        assertEquals('A', ByteLevelAlphabet.symbol('A'));
        assertEquals('Ā', ByteLevelAlphabet.symbol(0));
        // (values from GPT-2's bytes_to_unicode run in CPython)
        assertEquals('ł', ByteLevelAlphabet.symbol(0xA0));
        assertEquals('Ń', ByteLevelAlphabet.symbol(0xAD));
        assertEquals('ġ', ByteLevelAlphabet.symbol(0x7F));
        assertEquals("Ã©", ByteLevelAlphabet.encode("é"));
    }

    /**
     * CPython trains on the same pieces with a plain recount-every-round implementation of the same
     * rule (most frequent pair, ties to the smaller ids, no token twice, stop below two occurrences).
     */
    @Test
    void agreesWithAStraightforwardPythonTrainerOnDemoDocuments(@TempDir Path tmp) throws Exception {
        List<String> docs = DemoCorpus.texts().subList(0, 40);
        List<String> pieces = new ArrayList<>();
        docs.forEach(d -> pieces.addAll(BpeTrainer.preTokenize(d)));
        Path input = tmp.resolve("pieces.json");
        new ObjectMapper().writeValue(input.toFile(), pieces);
        String script = """
                import json, sys
                bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('\u00a1'), ord('\u00ac') + 1)) + list(range(ord('\u00ae'), ord('\u00ff') + 1))
                cs = bs[:]
                n = 0
                for b in range(256):
                    if b not in bs:
                        bs.append(b); cs.append(256 + n); n += 1
                sym = dict(zip(bs, map(chr, cs)))
                counts = {}
                for p in json.load(open(sys.argv[1], encoding='utf-8')):
                    w = tuple(p.encode('utf-8'))
                    counts[w] = counts.get(w, 0) + 1
                tokens = [sym[b] for b in range(256)]
                known = set(tokens)
                words = [[list(w), c] for w, c in counts.items()]
                merges = []
                while len(merges) < int(sys.argv[2]):
                    pairs = {}
                    for w, c in words:
                        for a, b in zip(w, w[1:]):
                            pairs[(a, b)] = pairs.get((a, b), 0) + c
                    cands = [(-c, a, b) for (a, b), c in pairs.items() if c >= 2 and tokens[a] + tokens[b] not in known]
                    if not cands:
                        break
                    _, a, b = min(cands)
                    new = len(tokens)
                    tokens.append(tokens[a] + tokens[b]); known.add(tokens[new])
                    merges.append(tokens[a] + ' ' + tokens[b])
                    for entry in words:
                        w, out, i = entry[0], [], 0
                        while i < len(w):
                            if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                                out.append(new); i += 2
                            else:
                                out.append(w[i]); i += 1
                        entry[0] = out
                print(json.dumps(merges))
                """;
        Path py = Files.writeString(tmp.resolve("bpe.py"), script);
        Process p = new ProcessBuilder(TestRequirements.python3(), py.toString(), input.toString(), "120").redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), output);
        List<String> expected = List.of(new ObjectMapper().readValue(output, String[].class));
        assertEquals(120, expected.size());
        assertEquals(expected, BpeTrainer.train(docs, 120).stream().map(m -> m[0] + " " + m[1]).toList());
    }
}
