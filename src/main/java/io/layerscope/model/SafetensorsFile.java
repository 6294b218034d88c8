package io.layerscope.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerscope.LayerscopeException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safetensors file, read by its header only; tensor bytes are memory-mapped on demand, one
 * mapping per tensor, so files over 2 GiB (Llama-3.2-1B's is 2.5 GB) work and nothing is copied
 * through the Java heap unless a caller asks for floats.
 *
 * <pre>{@code
 * SafetensorsFile f = SafetensorsFile.open(Path.of("model.safetensors"));
 * TensorInfo q = f.tensor("model.layers.0.self_attn.q_proj.weight");
 * float[] w = f.readFloats(q.name());   // widened to float32, row-major [out, in]
 * }</pre>
 */
public final class SafetensorsFile {
    /** Refuses text after the header's object (its padding is cut off first: see {@link #unpadded}). */
    private static final ObjectMapper JSON = com.fasterxml.jackson.databind.json.JsonMapper.builder()
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    /** The Rust reference implementation refuses headers over 100 MB; so do we. */
    private static final long MAX_HEADER = 100L * 1024 * 1024;

    /** Bytes per positional read of {@link #readFloats(String, float[])}: a multiple of every dtype's size. */
    private static final int READ_BYTES = 1 << 20;
    /**
     * Per thread, the direct buffer {@link #readFloats(String, float[])} reads through. Positional
     * reads copy from the page cache; a fresh mapping per tensor would fault every page in again
     * (dear on virtual machines) and keep the pages resident until the mapping is collected.
     */
    private static final ThreadLocal<ByteBuffer> READ_BUFFER = ThreadLocal.withInitial(
            () -> ByteBuffer.allocateDirect(READ_BYTES).order(ByteOrder.LITTLE_ENDIAN));

    private final Path path;
    private final long fileSize;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, long fileSize, Map<String, TensorInfo> tensors, Map<String, String> metadata) {
        this.path = path;
        this.fileSize = fileSize;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /** Reads and validates the header of {@code path}; throws {@link LayerscopeException} naming the problem. */
    public static SafetensorsFile open(Path path) {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw bad(path, "file is " + size + " bytes, shorter than the 8-byte header length");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long headerLen = lenBuf.getLong(0);
            if (headerLen < 2 || headerLen > MAX_HEADER || 8 + headerLen > size) {
                throw bad(path, "header length " + Long.toUnsignedString(headerLen)
                        + " does not fit the file of " + size + " bytes (truncated or not a safetensors file)");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLen);
            readFully(ch, header, 8);
            long dataStart = 8 + headerLen;
            return parse(path, size, dataStart, header.array());
        } catch (NoSuchFileException e) {
            throw new LayerscopeException(path + ": file not found");
        } catch (IOException e) {
            throw new LayerscopeException(path + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /**
     * The header without its padding: the format pads with spaces, and some writers (on the Hub) with
     * NUL bytes, which the Rust loader refuses but layerscope always read.
     */
    private static byte[] unpadded(byte[] header) {
        int end = header.length;
        while (end > 0 && (header[end - 1] == 0 || header[end - 1] == ' ' || header[end - 1] == '\n'
                || header[end - 1] == '\r' || header[end - 1] == '\t')) {
            end--;
        }
        return end == header.length ? header : java.util.Arrays.copyOf(header, end);
    }

    /**
     * A name given twice, of which a JSON tree keeps only the last: a tensor at the top level, or a
     * field within a tensor's entry (the Rust loader refuses both). Keys repeated inside __metadata__
     * are left to the tree, as that loader reads them into a map.
     */
    private static void refuseNamesGivenTwice(Path path, byte[] header) throws IOException {
        try (com.fasterxml.jackson.core.JsonParser p = JSON.getFactory().createParser(unpadded(header))) {
            if (p.nextToken() != com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
                return;   // the tree's own check says what it is
            }
            java.util.Set<String> tensors = new java.util.HashSet<>();
            while (p.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
                String name = p.currentName();
                if (!tensors.add(name)) {
                    throw bad(path, "header names " + (name.equals("__metadata__") ? "__metadata__" : "tensor \"" + name
                            + "\"") + " twice; the file is corrupt or not a safetensors file, download it again");
                }
                if (p.nextToken() == com.fasterxml.jackson.core.JsonToken.START_OBJECT && !name.equals("__metadata__")) {
                    java.util.Set<String> fields = new java.util.HashSet<>();
                    while (p.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
                        if (!fields.add(p.currentName())) {
                            throw bad(path, "header gives tensor \"" + name + "\" its " + p.currentName() + " twice; the"
                                    + " file is corrupt or not a safetensors file, download it again");
                        }
                        p.nextToken();
                        p.skipChildren();
                    }
                } else {
                    p.skipChildren();
                }
            }
        }
    }

    private static SafetensorsFile parse(Path path, long size, long dataStart, byte[] headerBytes) {
        JsonNode root;
        try {
            root = JSON.readTree(unpadded(headerBytes));
            refuseNamesGivenTwice(path, headerBytes);
        } catch (IOException e) {
            // Jackson's own message appends a source location that means nothing here
            String why = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
            if (why != null && why.startsWith("Trailing token")) {
                why = "more follows its object";   // Jackson's own words name its classes
            }
            throw bad(path, "header is not valid JSON (" + why + "); the file is corrupt or not a safetensors file,"
                    + " download it again");
        }
        if (root == null || !root.isObject()) {
            throw bad(path, "header is not a JSON object");
        }
        long dataLen = size - dataStart;
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode v = e.getValue();
            if (name.equals("__metadata__")) {
                v.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            String where = path + ": tensor " + name;
            if (!v.isObject() || !v.path("dtype").isTextual() || !v.path("shape").isArray()
                    || !v.path("data_offsets").isArray() || v.path("data_offsets").size() != 2) {
                throw new LayerscopeException(where + ": header entry needs dtype, shape and data_offsets [begin, end]");
            }
            DType dtype = DType.parse(v.get("dtype").asText(), where);
            long[] shape = new long[v.get("shape").size()];
            long numel = 1;
            boolean overflow = false;
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = v.get("shape").get(i);
                if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
                    throw new LayerscopeException(where + ": shape " + v.get("shape") + " is not a list of non-negative integers");
                }
                shape[i] = d.asLong();
                long[] product = {numel};
                overflow |= !multiply(product, shape[i]);
                numel = product[0];
            }
            long[] bytes = {numel};
            if (overflow || !multiply(bytes, dtype.bytes())) {
                throw new LayerscopeException(where + ": shape " + v.get("shape") + " of dtype " + dtype + " has more bytes than"
                        + " any file can hold (the product overflows 64 bits); the header is corrupt or not a safetensors"
                        + " header, download the file again");
            }
            JsonNode b = v.get("data_offsets").get(0);
            JsonNode e2 = v.get("data_offsets").get(1);
            long begin = b.isIntegralNumber() && b.canConvertToLong() ? b.asLong() : -1;
            long end = e2.isIntegralNumber() && e2.canConvertToLong() ? e2.asLong() : -1;
            if (begin < 0 || end < begin || end > dataLen) {
                throw new LayerscopeException(where + ": data_offsets [" + b + ", " + e2
                        + "] lie outside the data section of " + dataLen + " bytes (file truncated or header corrupt)");
            }
            long expected = bytes[0];
            if (end - begin != expected) {
                throw new LayerscopeException(where + ": holds " + (end - begin) + " bytes but dtype " + dtype
                        + " x shape " + java.util.Arrays.toString(shape) + " needs " + expected);
            }
            tensors.put(name, new TensorInfo(name, dtype, shape, dataStart + begin, dataStart + end));
        }
        checkNoOverlap(path, tensors);
        return new SafetensorsFile(path, size, tensors, metadata);
    }

    /** Sorted by begin, each non-empty tensor must start at or after the furthest end seen so far. */
    private static void checkNoOverlap(Path path, Map<String, TensorInfo> tensors) {
        List<TensorInfo> sorted = new ArrayList<>(tensors.values());
        sorted.removeIf(t -> t.byteLength() == 0);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        TensorInfo furthest = null;
        for (TensorInfo t : sorted) {
            if (furthest != null && t.begin() < furthest.end()) {
                throw bad(path, "tensors " + furthest.name() + " and " + t.name() + " overlap in the data section");
            }
            if (furthest == null || t.end() > furthest.end()) {
                furthest = t;
            }
        }
    }

    /** {@code acc[0] *= factor}; false (acc unchanged) when the product overflows a long. */
    private static boolean multiply(long[] acc, long factor) {
        try {
            acc[0] = Math.multiplyExact(acc[0], factor);
            return true;
        } catch (ArithmeticException e) {
            return false;
        }
    }

    private static LayerscopeException bad(Path path, String what) {
        return new LayerscopeException(path + ": " + what);
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos + buf.position());
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
        }
    }

    public Path path() {
        return path;
    }

    public long fileSize() {
        return fileSize;
    }

    /** Tensors in header order. */
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    public TensorInfo tensor(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw bad(path, "has no tensor " + name);
        }
        return t;
    }

    /**
     * Maps one tensor's bytes read-only (little-endian order set). The mapping outlives the channel,
     * which is closed at once: no file handle is held.
     */
    public MappedByteBuffer map(String name) {
        TensorInfo t = tensor(name);
        if (t.byteLength() > Integer.MAX_VALUE) {
            throw bad(path, "tensor " + name + " is " + t.byteLength() + " bytes; one mapping holds at most 2 GiB");
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MappedByteBuffer buf = ch.map(FileChannel.MapMode.READ_ONLY, t.begin(), t.byteLength());
            buf.order(ByteOrder.LITTLE_ENDIAN);
            return buf;
        } catch (IOException e) {
            throw new LayerscopeException(path + ": cannot map tensor " + name + " (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Maps rows {@code [firstRow, firstRow + rows)} of a tensor (rows along its first dimension), for
     * tensors too large for one mapping or when only a slice is needed.
     */
    public MappedByteBuffer mapRows(String name, long firstRow, int rows) {
        TensorInfo t = tensor(name);
        if (t.shape().length == 0 || firstRow < 0 || rows < 0 || firstRow + rows > t.shape()[0]) {
            throw bad(path, "tensor " + name + " of shape " + t.shapeString() + " has no rows [" + firstRow + ", "
                    + (firstRow + rows) + ")");
        }
        long rowBytes = t.shape()[0] == 0 ? 0 : t.byteLength() / t.shape()[0];
        long length = rowBytes * rows;
        if (length > Integer.MAX_VALUE) {
            throw bad(path, rows + " rows of tensor " + name + " are " + length + " bytes; one mapping holds at most 2 GiB");
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MappedByteBuffer buf = ch.map(FileChannel.MapMode.READ_ONLY, t.begin() + rowBytes * firstRow, length);
            buf.order(ByteOrder.LITTLE_ENDIAN);
            return buf;
        } catch (IOException e) {
            throw new LayerscopeException(path + ": cannot map tensor " + name + " (" + e.getMessage() + ")", e);
        }
    }

    /** Rows {@code [firstRow, firstRow + rows)} of a floating tensor widened to float32, row-major. */
    public float[] readRows(String name, long firstRow, int rows) {
        TensorInfo t = tensor(name);
        if (!t.dtype().isFloating()) {
            throw bad(path, "tensor " + name + " has dtype " + t.dtype() + ", not a floating type");
        }
        MappedByteBuffer buf = mapRows(name, firstRow, rows);
        float[] out = new float[Math.toIntExact(buf.capacity() / t.dtype().bytes())];
        HalfFloats.decode(buf, t.dtype(), out, 0, out.length);
        return out;
    }

    /**
     * Reads a floating tensor's rows a block at a time by positional reads into one reused buffer,
     * widened into one reused float array: for passes over a weight that never need it whole. No
     * mapping: pages of a mapped tensor count as the process's resident memory until the mapping is
     * collected, which for a whole model's weights read this way is gigabytes. Close it when done.
     */
    public RowBlocks rowBlocks(String name) {
        TensorInfo t = tensor(name);
        if (!t.dtype().isFloating() || t.shape().length == 0) {
            throw bad(path, "tensor " + name + " has dtype " + t.dtype() + " and shape " + t.shapeString()
                    + ", not a floating matrix");
        }
        try {
            return new RowBlocks(path, FileChannel.open(path, StandardOpenOption.READ), name, t.begin(), t.dtype(),
                    t.shape()[0], Math.toIntExact(t.numel() / Math.max(1, t.shape()[0])));
        } catch (IOException e) {
            throw new LayerscopeException(path + ": cannot read tensor " + name + " (" + e.getMessage() + ")", e);
        }
    }

    /** See {@link #rowBlocks}; one per thread. */
    public static final class RowBlocks implements AutoCloseable {
        private final Path path;
        private final FileChannel channel;
        private final String name;
        private final long begin;
        private final DType dtype;
        private final long rows;
        private final int columns;
        private ByteBuffer bytes = ByteBuffer.allocate(0);
        private float[] block = new float[0];

        private RowBlocks(Path path, FileChannel channel, String name, long begin, DType dtype, long rows, int columns) {
            this.path = path;
            this.channel = channel;
            this.name = name;
            this.begin = begin;
            this.dtype = dtype;
            this.rows = rows;
            this.columns = columns;
        }

        /**
         * Rows {@code [first, first + count)} widened to float32, row-major, at the start of the
         * returned array, which the next call overwrites (and which may be longer).
         */
        public float[] read(int first, int count) {
            if (first < 0 || count < 0 || first + (long) count > rows) {
                throw new IllegalArgumentException("no rows [" + first + ", " + (first + (long) count) + ") of " + rows);
            }
            int n = Math.multiplyExact(count, columns);
            int length = Math.multiplyExact(n, dtype.bytes());
            if (block.length < n) {
                block = new float[n];
            }
            if (bytes.capacity() < length) {
                // direct: a read into a heap buffer goes through a temporary direct one of its size
                bytes = ByteBuffer.allocateDirect(length).order(ByteOrder.LITTLE_ENDIAN);
            }
            try {
                readWidened(channel, begin + (long) first * columns * dtype.bytes(), dtype, bytes, block, n);
            } catch (IOException e) {
                throw new LayerscopeException(path + ": cannot read tensor " + name + " (" + e.getMessage() + ")", e);
            }
            return block;
        }

        @Override
        public void close() {
            try {
                channel.close();
            } catch (IOException e) {
                throw new LayerscopeException(path + ": cannot close (" + e.getMessage() + ")", e);
            }
        }
    }

    /** The tensor widened to float32, row-major. For BF16, F16, F32 and F64 tensors. */
    public float[] readFloats(String name) {
        return readFloats(name, null);
    }

    /**
     * As {@link #readFloats(String)}, into {@code reuse} when it has exactly the tensor's number of
     * values (every value is overwritten), else into a new array: a caller reading many tensors of
     * equal size saves allocating and zeroing fresh memory for each.
     */
    public float[] readFloats(String name, float[] reuse) {
        int numel = Math.toIntExact(tensor(name).numel());
        float[] out = reuse != null && reuse.length == numel ? reuse : new float[numel];
        readFloats(name, 0, numel, out);
        return out;
    }

    /**
     * Entries {@code [first, first + count)} of the flattened tensor, widened to float32 into
     * {@code into[0, count)}: a stretch of rows without reading the rest of the tensor.
     */
    public void readFloats(String name, long first, int count, float[] into) {
        TensorInfo t = tensor(name);
        if (!t.dtype().isFloating()) {
            throw bad(path, "tensor " + name + " has dtype " + t.dtype() + ", not a floating type");
        }
        if (first < 0 || count < 0 || first + count > t.numel() || count > into.length) {
            throw new IllegalArgumentException("entries [" + first + ", " + (first + count) + ") of tensor " + name
                    + " (" + t.numel() + " entries) into an array of " + into.length);
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            readWidened(ch, t.begin() + first * t.dtype().bytes(), t.dtype(), READ_BUFFER.get(), into, count);
        } catch (IOException e) {
            throw new LayerscopeException(path + ": cannot read tensor " + name + " (" + e.getMessage() + ")", e);
        }
    }

    /**
     * {@code count} values of {@code dtype} from byte {@code offset} of {@code ch}, widened into
     * {@code into[0, count)}, read through {@code bytes} a buffer's capacity at a time.
     */
    private static void readWidened(FileChannel ch, long offset, DType dtype, ByteBuffer bytes, float[] into, int count)
            throws IOException {
        int perRead = bytes.capacity() / dtype.bytes();
        for (int done = 0; done < count; done += perRead) {
            int n = Math.min(perRead, count - done);
            bytes.clear().limit(n * dtype.bytes());
            readFully(ch, bytes, offset + (long) done * dtype.bytes());
            HalfFloats.decode(bytes.flip(), dtype, into, done, n);
        }
    }
}
