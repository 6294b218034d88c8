package io.layerscope.calibration;

import io.layerscope.LayerscopeException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.IntConsumer;

/**
 * Wanda's {@code get_c4} calibration sampling, draw for draw, so the same seed, documents and
 * tokenizer give the same windows as the Python code:
 *
 * <pre>
 * random.seed(seed)
 * repeat nsamples times:
 *     loop:
 *         i = random.randint(0, len(docs) - 1)
 *         ids = tokenizer(docs[i].text).input_ids
 *         if len(ids) &gt; seqlen: break
 *     j = random.randint(0, len(ids) - seqlen - 1)
 *     sample = ids[j : j + seqlen]
 * </pre>
 *
 * <p>Each document is tokenized at most once: a document that was too short is remembered by its
 * length and skipped without tokenizing it again; one that was used keeps its ids for a repeat
 * draw. When a draw meets a document not yet tokenized, the documents the next draws pick if it and
 * they are too short (what a copy of the generator draws next) are tokenized with it, in one batch
 * on the encoder's cores ({@link TokenEncoder#batchSize}): at Wanda's 2048 tokens most C4 documents
 * are too short, so the guess mostly holds, and the draws themselves stay those of the loop above,
 * whatever the batch. Wanda's loop never ends when no document is long enough; this one fails
 * instead, once the draws have tokenized every document and none qualifies (with C4 and a
 * reasonable seqlen that never happens, and nothing is tokenized up front to find out).
 *
 * <pre>{@code
 * try (Documents docs = Documents.open(Path.of("c4-train.00000-of-01024.json.gz"))) {
 *     WandaSampler sampler = new WandaSampler(docs, HuggingFaceTokenEncoder.forPath(modelDir));
 *     List<CalibrationSample> windows = sampler.sample(128, 2048, 0, done -> log(done + "/128"));
 * }
 * }</pre>
 */
public final class WandaSampler {
    private final Documents documents;
    private final TokenEncoder encoder;

    public WandaSampler(Documents documents, TokenEncoder encoder) {
        this.documents = Objects.requireNonNull(documents, "documents");
        this.encoder = Objects.requireNonNull(encoder, "encoder");
    }

    /** {@link #sample(int, int, long, IntConsumer)} without progress reports. */
    public List<CalibrationSample> sample(int nsamples, int seqlen, long seed) {
        return sample(nsamples, seqlen, seed, done -> { });
    }

    /**
     * Draws {@code nsamples} windows of {@code seqlen} tokens with Python's {@code random} seeded
     * with {@code seed}; {@code progress} is told the number of windows done after each one.
     */
    public List<CalibrationSample> sample(int nsamples, int seqlen, long seed, IntConsumer progress) {
        if (nsamples < 1) {
            throw new IllegalArgumentException("nsamples must be at least 1, got " + nsamples
                    + " (--nsamples: the number of calibration windows)");
        }
        if (seqlen < 2) {
            throw new IllegalArgumentException("seqlen must be at least 2, got " + seqlen
                    + " (--seqlen: the number of tokens per calibration window)");
        }
        int count = documents.size();
        if (count == 0) {
            throw new LayerscopeException("no calibration documents to sample from; use a C4 shard or another "
                    + "non-empty JSON-lines file");
        }
        Draws draws = new Draws(count, seqlen);
        PythonRandom random = new PythonRandom(seed);
        List<CalibrationSample> samples = new ArrayList<>(nsamples);
        for (int s = 0; s < nsamples; s++) {
            int doc;
            int[] ids;
            while (true) {
                doc = (int) random.randint(0, count - 1);
                ids = draws.idsIfLongEnough(doc, random);
                if (ids != null) {
                    break;
                }
                draws.failIfNoDocumentQualifies();
            }
            int start = (int) random.randint(0, ids.length - seqlen - 1);
            int[] window = new int[seqlen];
            System.arraycopy(ids, start, window, 0, seqlen);
            samples.add(new CalibrationSample(s, doc, start, window));
            progress.accept(s + 1);
        }
        return samples;
    }

    /** What the draws have learnt about the documents so far. */
    private final class Draws {
        private final int seqlen;
        private final int count;
        private final BitSet tokenized;
        private int tokenizedCount;
        private final Map<Integer, int[]> longEnough = new HashMap<>();
        private int longest = -1;
        private int longestDoc = -1;

        Draws(int count, int seqlen) {
            this.seqlen = seqlen;
            this.count = count;
            this.tokenized = new BitSet(count);
        }

        /**
         * The ids of {@code doc} when it has more than seqlen tokens, else null. A document is
         * tokenized on its first draw only (or before it, in a batch); too-short ones are only
         * remembered as seen. {@code random} is the generator after drawing {@code doc}.
         */
        int[] idsIfLongEnough(int doc, PythonRandom random) {
            if (!tokenized.get(doc)) {
                tokenizeWithTheNextDraws(doc, random);
            }
            return longEnough.get(doc);
        }

        /**
         * Tokenizes {@code doc} and, up to the encoder's batch, the documents not yet tokenized that
         * the next draws pick if each is rejected: the generator's copy draws them, the real one is
         * left as it is.
         */
        private void tokenizeWithTheNextDraws(int doc, PythonRandom random) {
            int batch = Math.max(1, encoder.batchSize());
            List<Integer> docs = new ArrayList<>(batch);
            docs.add(doc);
            PythonRandom next = batch > 1 ? random.copy() : null;
            for (int k = 1; k < batch; k++) {
                int d = (int) next.randint(0, count - 1);
                if (!tokenized.get(d) && !docs.contains(d)) {
                    docs.add(d);
                }
            }
            List<int[]> ids = encoder.encodeAll(docs.stream().map(documents::text).toList());
            for (int i = 0; i < docs.size(); i++) {
                record(docs.get(i), ids.get(i));
            }
        }

        private void record(int doc, int[] ids) {
            tokenized.set(doc);
            tokenizedCount++;
            if (ids.length > longest) {
                longest = ids.length;
                longestDoc = doc;
            }
            if (ids.length > seqlen) {
                longEnough.put(doc, ids);
            }
        }

        /** Wanda's loop would spin forever: every document is tokenized and none is long enough. */
        void failIfNoDocumentQualifies() {
            if (tokenizedCount == count && longEnough.isEmpty()) {
                throw new LayerscopeException("no calibration document is longer than seqlen=" + seqlen
                        + " tokens (longest: " + longest + " tokens in document " + longestDoc
                        + "); use a smaller --seqlen or more data");
            }
        }
    }
}
