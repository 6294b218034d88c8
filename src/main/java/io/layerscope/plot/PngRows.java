package io.layerscope.plot;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.Inflater;
import java.util.zip.InflaterInputStream;

/**
 * Reads a PNG row by row as packed 0xRRGGBB pixels, without holding the decoded image: the pictures
 * this package writes are 4.8 megapixels, and a thumbnail needs each row once. Handles what PNG
 * writers commonly produce for charts: 8-bit truecolour with or without alpha (alpha composited over
 * white), not interlaced, any of the five row filters. {@link #open} returns null for anything else, so
 * the caller can fall back to ImageIO.
 */
final class PngRows {
    private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

    private final int width;
    private final int height;
    private final int bytesPerPixel;
    private final DataInputStream data;
    private byte[] row;
    private byte[] prior;
    private int rowsRead;

    private PngRows(int width, int height, int bytesPerPixel, byte[] idat) {
        this.width = width;
        this.height = height;
        this.bytesPerPixel = bytesPerPixel;
        this.data = new DataInputStream(new InflaterInputStream(new ByteArrayInputStream(idat), new Inflater(), 1 << 16));
        this.row = new byte[width * bytesPerPixel];
        this.prior = new byte[width * bytesPerPixel];
    }

    /** A reader of {@code png}, or null when it is no PNG this reader handles (see the class comment). */
    static PngRows open(byte[] png) {
        ByteBuffer b = ByteBuffer.wrap(png);   // big-endian, as PNG
        if (png.length < SIGNATURE.length + 25 || !ByteBuffer.wrap(png, 0, SIGNATURE.length).equals(ByteBuffer.wrap(SIGNATURE))) {
            return null;
        }
        b.position(SIGNATURE.length);
        int width = 0;
        int height = 0;
        int bytesPerPixel = 0;
        ByteArrayOutputStream idat = new ByteArrayOutputStream(png.length);
        while (b.remaining() >= 12) {
            int length = b.getInt();
            byte[] type = new byte[4];
            b.get(type);
            if (length < 0 || length > b.remaining() - 4) {
                return null;
            }
            String t = new String(type, StandardCharsets.US_ASCII);
            if (t.equals("IHDR")) {
                width = b.getInt(b.position());
                height = b.getInt(b.position() + 4);
                int depth = png[b.position() + 8];
                int colour = png[b.position() + 9];
                int interlace = png[b.position() + 12];
                if (depth != 8 || (colour != 2 && colour != 6) || interlace != 0 || width < 1 || height < 1) {
                    return null;
                }
                bytesPerPixel = colour == 2 ? 3 : 4;
            } else if (t.equals("IDAT")) {
                idat.write(png, b.position(), length);
            } else if (t.equals("IEND")) {
                break;
            }
            b.position(b.position() + length + 4);   // data and CRC
        }
        return bytesPerPixel == 0 || idat.size() == 0 ? null : new PngRows(width, height, bytesPerPixel, idat.toByteArray());
    }

    int width() {
        return width;
    }

    int height() {
        return height;
    }

    /** Decodes the next row into {@code rgb} (length at least width). */
    void next(int[] rgb) throws IOException {
        if (rowsRead == height) {
            throw new EOFException("all " + height + " rows were read");
        }
        byte[] swap = prior;
        prior = row;
        row = swap;
        int filter;
        try {
            filter = data.readUnsignedByte();
            data.readFully(row);
        } catch (EOFException e) {
            throw new IOException("the PNG image data ends after row " + rowsRead + " of " + height, e);
        }
        unfilter(filter, row, rowsRead == 0 ? new byte[row.length] : prior, bytesPerPixel);
        rowsRead++;
        for (int x = 0, i = 0; x < width; x++, i += bytesPerPixel) {
            int r = row[i] & 0xFF;
            int g = row[i + 1] & 0xFF;
            int bl = row[i + 2] & 0xFF;
            if (bytesPerPixel == 4) {
                int a = row[i + 3] & 0xFF;   // over white
                r = (r * a + 255 * (255 - a) + 127) / 255;
                g = (g * a + 255 * (255 - a) + 127) / 255;
                bl = (bl * a + 255 * (255 - a) + 127) / 255;
            }
            rgb[x] = (r << 16) | (g << 8) | bl;
        }
    }

    /** Reverses PNG filter {@code filter} on {@code row} in place (PNG specification, section 9). */
    static void unfilter(int filter, byte[] row, byte[] prior, int bpp) throws IOException {
        switch (filter) {
            case 0 -> { }
            case 1 -> {
                for (int i = bpp; i < row.length; i++) {
                    row[i] += row[i - bpp];
                }
            }
            case 2 -> {
                for (int i = 0; i < row.length; i++) {
                    row[i] += prior[i];
                }
            }
            case 3 -> {
                for (int i = 0; i < row.length; i++) {
                    int left = i >= bpp ? row[i - bpp] & 0xFF : 0;
                    row[i] += (byte) ((left + (prior[i] & 0xFF)) >>> 1);
                }
            }
            case 4 -> {
                for (int i = 0; i < row.length; i++) {
                    int a = i >= bpp ? row[i - bpp] & 0xFF : 0;
                    int b = prior[i] & 0xFF;
                    int c = i >= bpp ? prior[i - bpp] & 0xFF : 0;
                    int p = a + b - c;
                    int pa = Math.abs(p - a);
                    int pb = Math.abs(p - b);
                    int pc = Math.abs(p - c);
                    row[i] += (byte) (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
                }
            }
            default -> throw new IOException("unknown PNG row filter " + filter);
        }
    }
}
