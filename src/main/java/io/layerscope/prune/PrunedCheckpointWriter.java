package io.layerscope.prune;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.SafetensorsFile;
import io.layerscope.model.SafetensorsWriter;
import io.layerscope.model.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Writes a pruned copy of a checkpoint in Hugging Face format, one decoder block at a time as its
 * masks are decided, so at most one block's masks are ever held: one safetensors file per block
 * ({@code model-0000k-of-0000n.safetensors}), then one with every other tensor, the index, and the
 * model's config, tokenizer and generation files. Every tensor keeps its name, dtype and shape; a
 * pruned entry is zero bytes (0.0 in BF16, F16 and F32); every other byte is copied unchanged.
 *
 * <pre>{@code
 * PrunedCheckpointWriter w = new PrunedCheckpointWriter(ckpt, staging);
 * for (int b = 0; b < blocks; b++) w.writeBlock(b, masksOfBlock(b));   // tensor name -> mask
 * w.finish(provenance);
 * }</pre>
 */
public final class PrunedCheckpointWriter {
    /** What the directory holds besides the weights: a marker naming its provenance (and letting --overwrite recognise it). */
    public static final String MARKER = "layerscope-pruned.json";
    /** Rows copied per step: bounds the scratch buffer. */
    private static final int SLICE_BYTES = 8 << 20;

    /** Runs each file's writing: the caller's guard against an interrupt deleting the directory under it. */
    @FunctionalInterface
    public interface Guard {
        void write(Writing w) throws IOException;
    }

    /** One file's writing. */
    @FunctionalInterface
    public interface Writing {
        void run() throws IOException;
    }

    private final Checkpoint source;
    private final Path dir;
    private final Guard guard;
    private final int files;
    private final Map<String, String> weightMap = new TreeMap<>();
    private long totalSize;
    private int nextBlock;

    /** {@code dir}: an existing empty directory (a staging directory the caller renames once complete). */
    public PrunedCheckpointWriter(Checkpoint source, Path dir) {
        this(source, dir, Writing::run);
    }

    /** As above, each block's file written through {@code guard}. */
    public PrunedCheckpointWriter(Checkpoint source, Path dir, Guard guard) {
        this.source = source;
        this.dir = dir;
        this.guard = guard;
        this.files = source.config().numHiddenLayers() + 1;
    }

    /** The files of a Hugging Face model besides its weights that a pruned copy keeps: config, tokenizer, generation settings. */
    private static final Set<String> COPIED = Set.of("config.json", "generation_config.json", "tokenizer.json",
            "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "tokenizer.model",
            "chat_template.json", "chat_template.jinja");

    public static boolean isCopiedFile(String name) {
        return COPIED.contains(name);
    }

    /**
     * Writes block {@code block}'s tensors (blocks in order from 0), each masked entry zeroed.
     *
     * @param masks weight tensor name -> its mask; every other tensor of the block is copied as is
     */
    public void writeBlock(int block, Map<String, LayerMask> masks) throws IOException {
        if (block != nextBlock) {
            throw new IllegalStateException("block " + block + " written after block " + (nextBlock - 1));
        }
        List<TensorInfo> tensors = tensors(name -> blockOf(name) == block);
        for (Map.Entry<String, LayerMask> e : masks.entrySet()) {
            String name = e.getKey();
            TensorInfo t = blockOf(name) == block ? source.tensor(name) : null;
            if (t == null) {
                throw new IllegalArgumentException("mask for " + name + ", not a tensor of block " + block);
            }
            // checked before the block's file is begun: a refusal leaves no partial file
            LayerMask mask = e.getValue();
            if (t.shape().length != 2 || t.rows() != mask.out() || t.cols() != mask.in()) {
                throw new IllegalArgumentException("mask of " + mask.out() + "x" + mask.in() + " for " + name + " "
                        + t.shapeString());
            }
        }
        guard.write(() -> writeFile(block + 1, tensors, masks));
        nextBlock++;
    }

    /** Writes every tensor outside the blocks, the index, the copied files and the marker. */
    public void finish(Map<String, Object> provenance) throws IOException {
        if (nextBlock != files - 1) {
            throw new IllegalStateException("only blocks 0.." + (nextBlock - 1) + " of " + (files - 1) + " were written");
        }
        // whatever no block file took: embeddings, norms, lm_head, and any tensor of a name no block has
        writeFile(files, tensors(name -> blockOf(name) < 0 || blockOf(name) >= files - 1), Map.of());
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode index = json.createObjectNode();
        index.putObject("metadata").put("total_size", totalSize);
        ObjectNode map = index.putObject("weight_map");
        weightMap.forEach(map::put);
        Files.writeString(dir.resolve(Checkpoint.INDEX_FILE), json.writeValueAsString(index) + "\n");
        try (Stream<Path> entries = Files.list(source.dir())) {
            for (Path p : entries.filter(Files::isRegularFile).sorted().toList()) {
                if (isCopiedFile(p.getFileName().toString())) {
                    Files.copy(p, dir.resolve(p.getFileName().toString()));
                }
            }
        }
        Files.writeString(dir.resolve(MARKER), json.writeValueAsString(provenance) + "\n");
    }

    private interface NameFilter {
        boolean test(String name);
    }

    /**
     * The checkpoint's tensors passing {@code filter}, in file order then position: the order they
     * were stored in. With an index, a tensor is the one in the shard the index names: a copy in
     * another shard, or one the index does not list, is not part of the checkpoint.
     */
    private List<TensorInfo> tensors(NameFilter filter) {
        List<TensorInfo> out = new ArrayList<>();
        for (SafetensorsFile f : source.files()) {
            f.tensors().values().stream().filter(t -> source.holds(f, t.name()) && filter.test(t.name()))
                    .sorted(Comparator.comparingLong(TensorInfo::begin)).forEach(out::add);
        }
        return out;
    }

    /** The decoder block a tensor's name puts it in ({@code model.layers.<b>.}, b as written), or -1. */
    static int blockOf(String name) {
        String prefix = "model.layers.";
        int dot = name.indexOf('.', prefix.length());
        if (!name.startsWith(prefix) || dot < 0) {
            return -1;
        }
        String digits = name.substring(prefix.length(), dot);
        try {
            int b = Integer.parseInt(digits);
            // "01" or "+1" is no block's prefix: such a tensor goes with the rest, as it is
            return b >= 0 && Integer.toString(b).equals(digits) ? b : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private void writeFile(int number, List<TensorInfo> tensors, Map<String, LayerMask> masks) throws IOException {
        String name = io.layerscope.model.Checkpoint.shardName(number, files);
        List<SafetensorsWriter.Header> headers = new ArrayList<>();
        for (TensorInfo t : tensors) {
            headers.add(new SafetensorsWriter.Header(t.name(), t.dtype(), t.shape(), t.byteLength()));
            weightMap.put(t.name(), name);
            totalSize += t.byteLength();
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "pt");
        byte[] header = SafetensorsWriter.header(headers, metadata);
        try (FileChannel out = FileChannel.open(dir.resolve(name), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            writeFully(out, ByteBuffer.wrap(SafetensorsWriter.headerLength(header)));
            writeFully(out, ByteBuffer.wrap(header));
            for (TensorInfo t : tensors) {
                LayerMask mask = masks.get(t.name());
                if (mask == null) {
                    copy(t, out);
                } else {
                    copyMasked(t, mask, out);
                }
            }
        }
    }

    private void copy(TensorInfo t, FileChannel out) throws IOException {
        try (FileChannel in = FileChannel.open(source.fileOf(t.name()).path(), StandardOpenOption.READ)) {
            long done = 0;
            while (done < t.byteLength()) {
                long moved = in.transferTo(t.begin() + done, t.byteLength() - done, out);
                if (moved <= 0) {
                    // the file shrank since it was opened: transferTo copies nothing past the end, for ever
                    throw new IOException(source.fileOf(t.name()).path() + " ends inside tensor " + t.name()
                            + " (it changed while the job ran)");
                }
                done += moved;
            }
        }
    }

    /** The tensor's bytes with every masked entry's bytes set to zero, a slice of rows at a time. */
    private void copyMasked(TensorInfo t, LayerMask mask, FileChannel out) throws IOException {
        int size = t.dtype().bytes();
        int in = t.cols();
        int rowsPerSlice = Math.max(1, SLICE_BYTES / (in * size));
        SafetensorsFile file = source.fileOf(t.name());
        byte[] slice = new byte[Math.min(rowsPerSlice, t.rows()) * in * size];
        for (int first = 0; first < t.rows(); first += rowsPerSlice) {
            int rows = Math.min(rowsPerSlice, t.rows() - first);
            MappedByteBuffer src = file.mapRows(t.name(), first, rows);
            int length = rows * in * size;
            src.get(slice, 0, length);
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < in; j++) {
                    if (mask.pruned(first + r, j)) {
                        int at = (r * in + j) * size;
                        for (int k = 0; k < size; k++) {
                            slice[at + k] = 0;
                        }
                    }
                }
            }
            writeFully(out, ByteBuffer.wrap(slice, 0, length));
        }
    }

    private static void writeFully(FileChannel out, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            out.write(b);
        }
    }
}
