package io.layerscope.plot;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;

/**
 * A minimal PNG encoder for opaque RGB images: 8-bit truecolour, no interlacing, filter type 0 on
 * every row, zlib at speed level. It exists for speed: {@code ImageIO}'s writer tries five filters
 * per row in Java and takes many times longer on a large chart, while charts (flat colours,
 * white space) compress almost as well without filtering. Any PNG reader decodes the result.
 */
final class PngEncoder {
    private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    private static final int BIT_DEPTH = 8;
    private static final int COLOUR_TYPE_RGB = 2;

    private PngEncoder() {
    }

    /** Encodes the RGB channels of {@code image} (any alpha is dropped). */
    static byte[] encode(BufferedImage image) {
        int width = image.getWidth();
        int height = image.getHeight();
        ByteArrayOutputStream png = new ByteArrayOutputStream(width * height / 2 + 1024);
        try {
            png.write(SIGNATURE);
            ByteArrayOutputStream header = new ByteArrayOutputStream(13);
            DataOutputStream h = new DataOutputStream(header);
            h.writeInt(width);
            h.writeInt(height);
            h.writeByte(BIT_DEPTH);
            h.writeByte(COLOUR_TYPE_RGB);
            h.writeByte(0);   // compression: deflate
            h.writeByte(0);   // filter method: adaptive (each row names its filter)
            h.writeByte(0);   // no interlace
            chunk(png, "IHDR", header.toByteArray());
            chunk(png, "IDAT", compressedRows(image));
            chunk(png, "IEND", new byte[0]);
        } catch (IOException e) {
            throw new UncheckedIOException(e);   // in-memory streams do not fail
        }
        return png.toByteArray();
    }

    private static byte[] compressedRows(BufferedImage image) throws IOException {
        int width = image.getWidth();
        int height = image.getHeight();
        int[] direct = image.getType() == BufferedImage.TYPE_INT_RGB
                ? ((DataBufferInt) image.getRaster().getDataBuffer()).getData() : null;
        int[] argb = direct == null ? new int[width] : null;
        ByteArrayOutputStream idat = new ByteArrayOutputStream(width * height / 4 + 1024);
        Deflater deflater = new Deflater(Deflater.BEST_SPEED);
        try (DeflaterOutputStream z = new DeflaterOutputStream(idat, deflater, 1 << 16)) {
            byte[] row = new byte[1 + 3 * width];
            for (int y = 0; y < height; y++) {
                int[] pixels = direct;
                int base = y * width;
                if (direct == null) {
                    image.getRGB(0, y, width, 1, argb, 0, width);
                    pixels = argb;
                    base = 0;
                }
                row[0] = 0;   // filter type None
                int o = 1;
                for (int x = 0; x < width; x++) {
                    int p = pixels[base + x];
                    row[o++] = (byte) (p >> 16);
                    row[o++] = (byte) (p >> 8);
                    row[o++] = (byte) p;
                }
                z.write(row);
            }
        } finally {
            deflater.end();
        }
        return idat.toByteArray();
    }

    private static void chunk(OutputStream out, String type, byte[] data) throws IOException {
        byte[] typeBytes = type.getBytes(StandardCharsets.US_ASCII);
        CRC32 crc = new CRC32();
        crc.update(typeBytes);
        crc.update(data);
        DataOutputStream d = new DataOutputStream(out);
        d.writeInt(data.length);
        d.write(typeBytes);
        d.write(data);
        d.writeInt((int) crc.getValue());
    }
}
