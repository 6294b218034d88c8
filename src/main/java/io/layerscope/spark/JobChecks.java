package io.layerscope.spark;

import io.layerscope.LayerscopeException;
import io.layerscope.RealPaths;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.LlamaConfig;
import io.layerscope.model.PrunableLayer;
import io.layerscope.prune.PrunedCheckpointWriter;
import io.layerscope.prune.SparsityPattern;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A job's options checked against each other and the model before anything is read or written. */
public final class JobChecks {
    private JobChecks() {
    }

    /** The calibration options against the model (and the driver's heap), before anything starts. */
    static void calibration(JobOptions.Calibration options, LlamaConfig c) {
        if (options.nsamples() < 1) {
            throw new LayerscopeException("--nsamples " + options.nsamples() + " must be at least 1");
        }
        long tokens = (long) options.nsamples() * Math.max(1, options.seqlen());
        long room = Runtime.getRuntime().maxMemory() / 2 / Integer.BYTES;
        if (tokens > room) {
            // the driver holds every window's token ids (and the calibration table) at once
            throw new LayerscopeException("--nsamples " + options.nsamples() + " x --seqlen "
                    + options.seqlen() + " is " + tokens + " calibration tokens, more than the driver's heap can"
                    + " hold (at most " + room + " with this heap); use fewer samples, or a larger driver heap"
                    + " (--driver-memory, or LAYERSCOPE_DRIVER_MEMORY)");
        }
        if (options.seqlen() < 2) {
            throw new LayerscopeException("--seqlen " + options.seqlen() + " must be at least 2");
        }
        if (options.seqlen() > c.maxPositionEmbeddings()) {
            throw new LayerscopeException("--seqlen " + options.seqlen() + " exceeds the model's max_position_embeddings "
                    + c.maxPositionEmbeddings() + "; use --seqlen " + c.maxPositionEmbeddings() + " or less");
        }
        if (options.batchSize() < 1) {
            throw new LayerscopeException("--batch-size " + options.batchSize() + " must be at least 1");
        }
        if (options.shards() < 0) {
            throw new LayerscopeException("--shards " + options.shards() + " must be 0 (one per executor core or GPU slot) or more");
        }
    }

    /** The longest Java array: a batch's hidden states travel between sequential mode's rounds as one. */
    static final long LONGEST_ARRAY = Integer.MAX_VALUE - 8;

    /**
     * Sequential mode keeps each batch's hidden states between rounds as one byte array, so a batch
     * (--batch-size sequences of --seqlen tokens of hidden_size values) must fit in one: a larger one
     * would fail in the first round with an error of the JVM's. The states are float32 with --dtype
     * float32, and with auto on {@code cpuOnly} executors (local mode without --device cuda); else
     * float16 is assumed (auto on GPU executors), refusing only what cannot fit.
     */
    static void sequentialBatch(JobOptions.Calibration options, LlamaConfig c, boolean sequential, boolean cpuOnly) {
        io.layerscope.llama.ComputeDtype dtype = options.dtype();
        int bytes = dtype == io.layerscope.llama.ComputeDtype.FLOAT32
                || dtype == io.layerscope.llama.ComputeDtype.AUTO && cpuOnly ? 4 : 2;
        long perSequence = (long) options.seqlen() * c.hiddenSize() * bytes;
        if (!sequential || perSequence * options.batchSize() <= LONGEST_ARRAY) {
            return;
        }
        long most = LONGEST_ARRAY / perSequence;
        throw new LayerscopeException("--batch-size " + options.batchSize() + " with --mode sequential: a batch's hidden"
                + " states (" + options.batchSize() + " x " + options.seqlen() + " tokens x " + c.hiddenSize() + " x "
                + bytes + " bytes = " + io.layerscope.hub.ConsoleProgress.bytes(perSequence * options.batchSize()) + ") exceed the largest"
                + " Java array (2 GiB less 9 bytes), in which the rounds keep them; " + (most >= 1 ? "use --batch-size " + most + " or less"
                : "even one sequence does not: use a smaller --seqlen"));
    }

    /**
     * Pruning options that depend on the model, checked before anything starts. N:M masks are built
     * for every block up to {@code lastBlock} when the run prunes (sequential mode, --save-pruned), and
     * only for the {@code analysed} layers otherwise: M must divide those layers' in_features.
     */
    static void pruning(JobOptions.Analysis a, Checkpoint ckpt, int lastBlock, List<PrunableLayer> analysed,
                        boolean prunes) {
        SparsityPattern p = a.pattern();
        if (p.structured() && a.allocation().owl()) {
            throw new LayerscopeException("--allocation owl spreads an unstructured sparsity over the blocks, but"
                    + " --prune-n " + p.n() + " --prune-m " + p.m() + " prunes " + p.n() + " of every " + p.m()
                    + " in every block; use one or the other");
        }
        if (p.structured()) {
            for (PrunableLayer l : prunes ? ckpt.prunableLayers() : analysed) {
                if (l.block() >= 0 && l.block() <= lastBlock && l.inFeatures() % p.m() != 0) {
                    throw new LayerscopeException("--prune-m " + p.m() + " does not divide the in_features " + l.inFeatures()
                            + " of " + l.name() + "; N:M masks need whole groups of M input columns (use an M that"
                            + " divides " + l.inFeatures() + ")");
                }
            }
        }
        if (a.gram() && a.sequential()) {
            throw new LayerscopeException("--gram measures the masks on the dense model's inputs (--mode dense); with"
                    + " --mode sequential each block's inputs come from the pruned blocks before it, and their Gram"
                    + " matrices are not accumulated: drop --gram or use --mode dense");
        }
    }

    /**
     * The outputs are each written whole and moved into place at the end, so none may lie inside
     * another: the one inside would go with the other's old version, or stop its commit (after the
     * whole run). Refused before anything is read or written, by the command line before the model
     * resolves (a download, perhaps); any may be null.
     */
    public static void refuseNestedOutputs(Path out, Path savePruned, Path imatrix) {
        Map<String, Path> outputs = new LinkedHashMap<>();
        outputs.put("--out", out);
        outputs.put("--save-pruned", savePruned);
        outputs.put("--imatrix", imatrix);
        if (savePruned != null && out != null
                && RealPaths.of(savePruned).equals(RealPaths.of(out))) {
            throw new LayerscopeException("--save-pruned " + savePruned + " and --out " + out + " are the same"
                    + " directory; the pruned model and the results need one each");
        }
        outputs.forEach((inner, i) -> outputs.forEach((outer, d) -> {
            if (i != null && d != null && !inner.equals(outer) && !outer.equals("--imatrix")
                    && RealPaths.of(i).startsWith(RealPaths.of(d))) {
                throw new LayerscopeException(inner + " " + i + " is inside " + outer + " " + d + ", which the run"
                        + " writes as a whole and moves into place at the end; give " + inner + " a place of its own");
            }
        }));
        outputs.forEach((option, p) -> {
            if (p != null) {
                refuseInsideEarlierOutput(option, p);
            }
        });
    }

    /**
     * An output (or a cache) inside another run's results or pruned checkpoint would stop the next
     * --overwrite of that directory, which refuses to delete what that run did not write.
     */
    static void refuseInsideEarlierOutput(String option, Path p) {
        for (Path d = RealPaths.of(p).getParent(); d != null; d = d.getParent()) {
            String what = ResultsDirectory.holdsResults(d) ? "the results of another run"
                    : Files.isRegularFile(d.resolve(PrunedCheckpointWriter.MARKER)) ? "a pruned checkpoint of another run"
                    : null;
            if (what != null) {
                throw new LayerscopeException(option + " " + p + " is inside " + d + ", " + what + ", which --overwrite"
                        + " replaces as a whole; give " + option + " a place of its own");
            }
        }
    }
}
