package io.layerscope.llamacpp;

import io.layerscope.Flock;
import io.layerscope.LayerscopeException;
import io.layerscope.OutputLock;
import io.layerscope.RealPaths;
import io.layerscope.WholeFiles;
import io.layerscope.llama.TapSums;
import io.layerscope.model.LayerKind;
import io.layerscope.model.PrunableLayer;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The calibration's per-input-channel sums of squares as llama.cpp's importance matrix
 * ({@code llama-imatrix}'s GGUF output, which {@code llama-quantize --imatrix} reads), so a model can
 * be quantized with the same calibration it was analysed with.
 *
 * <p>Layout, as tools/imatrix/imatrix.cpp saves it: {@code general.type = "imatrix"},
 * {@code imatrix.datasets} (strings), {@code imatrix.chunk_count} and {@code imatrix.chunk_size}
 * (uint32); per weight, in name order, {@code <name>.in_sum2} (F32, ggml shape [in_features, 1]: the
 * sum over every token of x_j squared, not divided) and {@code <name>.counts} (F32 [1, 1]: the number
 * of tokens summed). llama.cpp divides in_sum2 by counts when it quantizes. The names are llama.cpp's
 * ({@code blk.N.attn_q.weight}, ...); lm_head is left out, as llama-imatrix leaves out
 * {@code output.weight} unless told otherwise. A chunk is one calibration window: chunk_size is
 * --seqlen and chunk_count is --nsamples, so counts / chunk_size = chunk_count as in llama.cpp.
 *
 * <p>The file is written beside its target under a temporary name and renamed into place by
 * {@link #commit}, so it is complete or absent; {@link #close} removes an uncommitted one.
 */
public final class ImportanceMatrix implements AutoCloseable {
    private static final Map<LayerKind, String> LLAMA_CPP_NAMES = new EnumMap<>(Map.of(
            LayerKind.Q_PROJ, "attn_q", LayerKind.K_PROJ, "attn_k", LayerKind.V_PROJ, "attn_v",
            LayerKind.O_PROJ, "attn_output", LayerKind.GATE_PROJ, "ffn_gate", LayerKind.UP_PROJ, "ffn_up",
            LayerKind.DOWN_PROJ, "ffn_down"));


    private final Path target;
    private final boolean overwrite;
    private final Path staged;
    private boolean committed;
    /** The commit has begun: from here on its own messages say where the earlier file is. */
    private volatile boolean placing;
    /** A signal after the file is written and before it is in place: the temporary file goes with the run. */
    private final Thread cleanupHook = new Thread(this::discard, "layerscope-imatrix-cleanup");

    /** Held from {@link #prepare} to {@link #close}: a second job writing this file is refused at its start. */
    private final Path lock;
    private Flock held;

    private ImportanceMatrix(Path target, boolean overwrite, Path lock, Flock held) {
        this.target = target;
        this.overwrite = overwrite;
        this.lock = lock;
        this.held = held;
        // a random name: process ids repeat (in containers above all), and two drivers may share the directory
        this.staged = WholeFiles.temporaryFor(target);
        try {
            Runtime.getRuntime().addShutdownHook(cleanupHook);
        } catch (IllegalStateException shuttingDown) {
            discard();   // the lock file too
            throw new LayerscopeException("interrupted: the importance matrix " + target + " is not written");
        }
        if (overwrite && Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            io.layerscope.KeptOutputs.replacing(() -> placing ? null : "the earlier importance matrix " + target + " is unchanged");
        }
    }

    /**
     * Checks before the job runs that {@code target} can be written: its directory exists, it lies in
     * none of {@code kept} (the model, the caches: by what they are, for the message), and it does not
     * exist unless {@code overwrite}, and then it is an importance matrix (a GGUF file whose
     * general.type is imatrix): --overwrite never replaces anything else.
     */
    public static ImportanceMatrix prepare(Path target, boolean overwrite, Map<String, Path> kept) {
        Path absolute = target.toAbsolutePath().normalize();
        if (absolute.getFileName() == null) {
            throw new LayerscopeException("--imatrix " + target + " names no file; give a path such as imatrix.gguf");
        }
        Path dir = absolute.getParent();
        if (!Files.isDirectory(dir)) {
            throw new LayerscopeException("--imatrix " + target + ": the directory " + dir + " does not exist");
        }
        if (Files.isDirectory(absolute, LinkOption.NOFOLLOW_LINKS)) {
            throw new LayerscopeException("--imatrix " + target + " is a directory; give a file name such as "
                    + absolute.resolve("imatrix.gguf"));
        }
        Path real = RealPaths.of(absolute);
        kept.forEach((what, p) -> {
            if (p != null && real.startsWith(RealPaths.of(p))) {
                throw new LayerscopeException("--imatrix " + target + " is inside " + what + "; write the importance"
                        + " matrix somewhere else");
            }
        });
        if (Files.exists(absolute, LinkOption.NOFOLLOW_LINKS)) {
            if (!overwrite) {
                throw new LayerscopeException("--imatrix " + target + " already exists; pass --overwrite to replace it"
                        + " (only once the new one is complete), or choose another file");
            }
            refuseReplacing(target, absolute);
        }
        if (!Files.isWritable(dir)) {
            throw new LayerscopeException("--imatrix " + target + ": the directory " + dir + " is not writable");
        }
        Path lock = OutputLock.besides(absolute);
        Flock held = OutputLock.take(lock, absolute, "--imatrix", "the importance matrix",
                ".NAME.*.tmp, but those a day old");
        // what a killed job left (its temporary file lives from the end of stage one to the commit): under
        // the lock no other job writes one, else (no file locks there) only those a day old are surely dead
        WholeFiles.clearAbandoned(absolute, held != null ? Duration.ZERO : WholeFiles.ABANDONED);
        return new ImportanceMatrix(absolute, overwrite, lock, held);
    }

    /** Unless {@code file} is an importance matrix, which --overwrite may replace. */
    private static void refuseReplacing(Path given, Path file) {
        Optional<String> type = Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) ? GgufType.of(file) : Optional.empty();
        String why = Files.isSymbolicLink(file) ? "it is a symbolic link"
                : !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) ? "it is not a regular file"
                : type.isEmpty() ? "it is not a GGUF importance matrix"
                : type.get().equals("imatrix") ? null : "it is a GGUF file of general.type " + type.get();
        if (why != null) {
            throw new LayerscopeException("--overwrite refuses to replace --imatrix " + given + ": " + why + ", and"
                    + " --overwrite only replaces importance matrices; choose another --imatrix or remove it yourself");
        }
    }

    /** Where the file goes. */
    public Path target() {
        return target;
    }

    /** llama.cpp's name of a layer's weight, or empty for lm_head (not part of the matrix). */
    public static Optional<String> llamaCppName(PrunableLayer layer) {
        String kind = LLAMA_CPP_NAMES.get(layer.kind());
        return kind == null ? Optional.empty() : Optional.of("blk." + layer.block() + "." + kind + ".weight");
    }

    /**
     * Writes the matrix of {@code layers} (those of the decoder blocks) from the sums of x squared of
     * their taps to the temporary file.
     *
     * @param seqlen  tokens per calibration window (chunk_size)
     * @param dataset what the windows were cut from, for imatrix.datasets
     */
    public void write(List<PrunableLayer> layers, TapSums sums, int seqlen, String dataset) {
        TreeMap<String, PrunableLayer> byName = new TreeMap<>();   // llama.cpp sorts its entries by name
        layers.forEach(l -> llamaCppName(l).ifPresent(n -> byName.put(n, l)));
        if (byName.isEmpty()) {
            throw new LayerscopeException("--imatrix needs layers of the decoder blocks, and --layers selected only "
                    + layers.stream().map(PrunableLayer::name).toList());
        }
        if (sums.ntokens() != (long) sums.nsamples() * seqlen) {
            throw new IllegalStateException("stage one summed " + sums.ntokens() + " tokens, not " + sums.nsamples()
                    + " windows of " + seqlen);
        }
        GgufWriter gguf = new GgufWriter();
        gguf.string("general.type", "imatrix");
        gguf.strings("imatrix.datasets", List.of(dataset));
        gguf.uint32("imatrix.chunk_count", sums.nsamples());
        gguf.uint32("imatrix.chunk_size", seqlen);
        float[] counts = {(float) sums.ntokens()};
        byName.forEach((name, layer) -> {
            float[] sumSq = sums.sumSq().get(layer.tapKey());
            if (sumSq == null || sumSq.length != layer.inFeatures()) {
                throw new IllegalStateException("no sums of " + layer.inFeatures() + " features for " + layer.name());
            }
            gguf.tensor(name + ".in_sum2", new long[] {layer.inFeatures(), 1}, sumSq);
            gguf.tensor(name + ".counts", new long[] {1, 1}, counts);
        });
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(staged), 1 << 16)) {
            gguf.writeTo(out);
        } catch (IOException e) {
            throw new LayerscopeException("cannot write the importance matrix " + staged + " (" + e.getMessage()
                    + "); nothing was kept; free space there or choose another --imatrix", e);
        }
    }

    /**
     * Puts the written file in place: with --overwrite over an importance matrix (checked again: the
     * file may have changed while the job ran); without, only where no file has appeared meanwhile (a
     * hard link fails rather than replace one), else under a name of its own, said in the error.
     */
    public synchronized Path commit() {
        if (io.layerscope.Shutdown.inProgress()) {
            // an interrupt: nothing of the run is kept, this file neither
            throw new LayerscopeException("interrupted: the importance matrix " + target + " is not kept");
        }
        placing = true;
        try {
            String refused = null;
            if (overwrite && Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                try {
                    refuseReplacing(target, target);   // again: the file may have changed while the job ran
                } catch (LayerscopeException e) {
                    refused = e.getMessage();
                }
            }
            if (overwrite && refused == null) {
                Files.move(staged, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } else if (refused != null || !placedWithoutReplacing()) {
                Path aside = target.resolveSibling(target.getFileName() + ".new-"
                        + java.util.UUID.randomUUID().toString().substring(0, 8));
                io.layerscope.NoReplaceRename.move(staged, aside);   // never over a file of that name
                committed = true;
                throw new LayerscopeException((refused != null ? refused : "--imatrix " + target + " appeared while the"
                        + " job ran") + "; the importance matrix is in " + aside + " instead");
            }
            committed = true;
            return target;
        } catch (IOException e) {
            throw new LayerscopeException("cannot move the importance matrix into place as " + target + " ("
                    + e.getMessage() + ")", e);
        }
    }

    /** Moves the staged file to the target unless a file is there (then false, the staged file kept). */
    private boolean placedWithoutReplacing() throws IOException {
        try {
            Files.createLink(target, staged);
        } catch (FileAlreadyExistsException e) {
            return false;
        } catch (UnsupportedOperationException | java.nio.file.FileSystemException e) {
            // no hard links on this file system: a rename that does not replace
            try {
                io.layerscope.NoReplaceRename.move(staged, target);
            } catch (FileAlreadyExistsException appeared) {
                return false;
            }
            return true;
        }
        Files.delete(staged);
        return true;
    }

    @Override
    public void close() {
        discard();
        try {
            Runtime.getRuntime().removeShutdownHook(cleanupHook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or has run
        }
    }

    /** Deletes the temporary file unless it was put in place, then lets the lock go; never while {@link #commit} moves it. */
    private synchronized void discard() {
        if (!committed) {
            try {
                Files.deleteIfExists(staged);
            } catch (IOException e) {
                // best effort: a later run with this --imatrix clears it
            }
        }
        OutputLock.release(lock, held);
        held = null;
    }
}
