package io.layerscope.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a safetensors file: tensors in the order added, header padded with spaces to a multiple
 * of 8 bytes as the reference implementation does. Same input, same bytes. Used for the demo
 * checkpoint and test fixtures.
 */
public final class SafetensorsWriter {
    private record Entry(String name, DType dtype, long[] shape, byte[] data) {
    }

    private final List<Entry> entries = new ArrayList<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** Adds raw little-endian bytes. */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, byte[] data) {
        entries.add(new Entry(name, dtype, shape.clone(), data));
        return this;
    }

    /** Adds float values encoded as {@code dtype} (BF16 rounds to nearest even, F16 to nearest even). */
    public SafetensorsWriter addFloats(String name, DType dtype, long[] shape, float[] values) {
        return add(name, dtype, shape, encode(dtype, values));
    }

    public static byte[] encode(DType dtype, float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            switch (dtype) {
                case F32 -> b.putFloat(v);
                case BF16 -> b.putShort(HalfFloats.floatToBf16(v));
                case F16 -> b.putShort(HalfFloats.floatToF16(v));
                default -> throw new IllegalArgumentException("cannot encode floats as " + dtype);
            }
        }
        return b.array();
    }

    public byte[] headerBytes() {
        List<Header> headers = new ArrayList<>();
        for (Entry e : entries) {
            headers.add(new Header(e.name(), e.dtype(), e.shape(), e.data().length));
        }
        return header(headers, metadata);
    }

    /** One tensor as the header describes it: its bytes follow the previous tensor's. */
    public record Header(String name, DType dtype, long[] shape, long byteLength) {
    }

    /**
     * The header of a file holding {@code tensors} in this order (the JSON, padded with spaces to a
     * multiple of 8 bytes; the 8-byte length before it is not included), for writers that stream
     * the tensor bytes themselves.
     */
    public static byte[] header(List<Header> tensors, Map<String, String> metadata) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = root.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (Header e : tensors) {
            ObjectNode t = root.putObject(e.name());
            t.put("dtype", e.dtype().name());
            ArrayNode shape = t.putArray("shape");
            for (long d : e.shape()) {
                shape.add(d);
            }
            ArrayNode off = t.putArray("data_offsets");
            off.add(offset);
            off.add(offset + e.byteLength());
            offset += e.byteLength();
        }
        byte[] raw = root.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (raw.length + 7) / 8 * 8;
        byte[] header = new byte[padded];
        System.arraycopy(raw, 0, header, 0, raw.length);
        for (int i = raw.length; i < padded; i++) {
            header[i] = ' ';
        }
        return header;
    }

    /** The 8-byte little-endian length that starts a safetensors file. */
    public static byte[] headerLength(byte[] header) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array();
    }

    public void write(Path file) throws IOException {
        byte[] header = headerBytes();
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(headerLength(header));
            out.write(header);
            for (Entry e : entries) {
                out.write(e.data());
            }
        }
    }
}
