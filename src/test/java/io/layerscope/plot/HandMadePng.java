package io.layerscope.plot;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.DeflaterOutputStream;

/**
 * PNG files written by the test itself, following the PNG specification directly: 8-bit RGB (colour
 * type 2) or RGBA (6), each row filtered with a chosen filter type, the whole stream split into several
 * IDAT chunks. An encoder independent of {@link PngEncoder} and of ImageIO, for decoder tests.
 */
final class HandMadePng {
    private HandMadePng() {
    }

    /**
     * @param argb pixels, row-major, 0xAARRGGBB
     * @param alpha colour type 6 (RGBA) when true, else 2 (RGB, alpha dropped)
     * @param filters filter type of row y is {@code filters[y % filters.length]}
     */
    static byte[] encode(int[] argb, int width, int height, boolean alpha, int[] filters) throws IOException {
        int bpp = alpha ? 4 : 3;
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        byte[] prior = new byte[width * bpp];
        try (DeflaterOutputStream z = new DeflaterOutputStream(raw)) {
            for (int y = 0; y < height; y++) {
                byte[] row = new byte[width * bpp];
                for (int x = 0; x < width; x++) {
                    int p = argb[y * width + x];
                    row[x * bpp] = (byte) (p >> 16);
                    row[x * bpp + 1] = (byte) (p >> 8);
                    row[x * bpp + 2] = (byte) p;
                    if (alpha) {
                        row[x * bpp + 3] = (byte) (p >>> 24);
                    }
                }
                int filter = filters[y % filters.length];
                z.write(filter);
                z.write(filter(filter, row, prior, bpp));
                prior = row;
            }
        }
        byte[] idat = raw.toByteArray();
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        png.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
        ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
        DataOutputStream h = new DataOutputStream(ihdr);
        h.writeInt(width);
        h.writeInt(height);
        h.write(new byte[] {8, (byte) (alpha ? 6 : 2), 0, 0, 0});
        chunk(png, "IHDR", ihdr.toByteArray());
        chunk(png, "tEXt", "Comment\0hand made".getBytes(StandardCharsets.ISO_8859_1));   // ancillary: skipped
        int half = idat.length / 2;
        chunk(png, "IDAT", java.util.Arrays.copyOfRange(idat, 0, half));
        chunk(png, "IDAT", java.util.Arrays.copyOfRange(idat, half, idat.length));
        chunk(png, "IEND", new byte[0]);
        return png.toByteArray();
    }

    /** The forward filters of the PNG specification, section 9.2 (Paeth predictor as given there). */
    static byte[] filter(int type, byte[] row, byte[] prior, int bpp) {
        byte[] out = new byte[row.length];
        for (int i = 0; i < row.length; i++) {
            int x = row[i] & 0xFF;
            int a = i >= bpp ? row[i - bpp] & 0xFF : 0;
            int b = prior[i] & 0xFF;
            int c = i >= bpp ? prior[i - bpp] & 0xFF : 0;
            int predicted = switch (type) {
                case 0 -> 0;
                case 1 -> a;
                case 2 -> b;
                case 3 -> (a + b) / 2;
                case 4 -> paeth(a, b, c);
                default -> throw new IllegalArgumentException("filter " + type);
            };
            out[i] = (byte) (x - predicted);
        }
        return out;
    }

    private static int paeth(int a, int b, int c) {
        int p = a + b - c;
        int pa = Math.abs(p - a);
        int pb = Math.abs(p - b);
        int pc = Math.abs(p - c);
        if (pa <= pb && pa <= pc) {
            return a;
        }
        return pb <= pc ? b : c;
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) throws IOException {
        DataOutputStream d = new DataOutputStream(out);
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        d.writeInt(data.length);
        d.write(t);
        d.write(data);
        d.writeInt((int) crc.getValue());
    }
}
