package io.layerscope.plot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.layerscope.fixtures.TestRequirements;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PngEncoderTest {

    @Test
    void imageIoDecodesEveryPixel() throws IOException {
        BufferedImage image = new BufferedImage(37, 23, BufferedImage.TYPE_INT_RGB);
        SplittableRandom rnd = new SplittableRandom(5);
        for (int y = 0; y < 23; y++) {
            for (int x = 0; x < 37; x++) {
                image.setRGB(x, y, rnd.nextInt(1 << 24));
            }
        }
        BufferedImage decoded = ImageIO.read(new ByteArrayInputStream(PngEncoder.encode(image)));
        assertEquals(37, decoded.getWidth());
        assertEquals(23, decoded.getHeight());
        for (int y = 0; y < 23; y++) {
            for (int x = 0; x < 37; x++) {
                assertEquals(image.getRGB(x, y), decoded.getRGB(x, y), "pixel " + x + ", " + y);
            }
        }
    }

    @Test
    void otherImageTypesKeepTheirColoursAndDropAlpha() throws IOException {
        BufferedImage image = new BufferedImage(3, 1, BufferedImage.TYPE_INT_ARGB);
        image.setRGB(0, 0, 0x80FF0000);
        image.setRGB(1, 0, 0xFF00FF00);
        image.setRGB(2, 0, 0x000000FF);
        BufferedImage decoded = ImageIO.read(new ByteArrayInputStream(PngEncoder.encode(image)));
        assertEquals(0xFFFF0000, decoded.getRGB(0, 0));
        assertEquals(0xFF00FF00, decoded.getRGB(1, 0));
        assertEquals(0xFF0000FF, decoded.getRGB(2, 0));
    }

    @Test
    void headerBytesAreAsSpecified() {
        byte[] png = PngEncoder.encode(new BufferedImage(300, 2, BufferedImage.TYPE_INT_RGB));
        byte[] expected = {
            (byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A,   // signature
            0, 0, 0, 13, 'I', 'H', 'D', 'R',                       // IHDR, 13 bytes
            0, 0, 0x01, 0x2C, 0, 0, 0, 2,                          // width 300, height 2
            8, 2, 0, 0, 0};                                        // 8-bit RGB, deflate, no interlace
        assertArrayEquals(expected, Arrays.copyOf(png, expected.length));
    }

    /** CPython's zlib checks every chunk CRC and inflates the rows independently of Java. */
    @Test
    void pythonValidatesChunksAndRows(@TempDir Path dir) throws Exception {
        BufferedImage image = new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB);
        int[] pixels = {0x010203, 0xFFFFFF, 0x7F0080, 0x000000, 0xABCDEF, 0x102030};
        image.setRGB(0, 0, 3, 2, pixels, 0, 3);
        Path file = dir.resolve("t.png");
        Files.write(file, PngEncoder.encode(image));
        String script = String.join("\n",
                "import struct, sys, zlib",
                "b = open(sys.argv[1], 'rb').read()",
                "assert b[:8] == b'\\x89PNG\\r\\n\\x1a\\n'",
                "i, idat, kinds = 8, b'', []",
                "while i < len(b):",
                "    n, = struct.unpack('>I', b[i:i+4]); t = b[i+4:i+8]; d = b[i+8:i+8+n]",
                "    crc, = struct.unpack('>I', b[i+8+n:i+12+n])",
                "    assert zlib.crc32(t + d) & 0xffffffff == crc, t",
                "    kinds.append(t.decode())",
                "    if t == b'IDAT': idat += d",
                "    i += 12 + n",
                "print(','.join(kinds), zlib.decompress(idat).hex())");
        Process p = new ProcessBuilder(TestRequirements.python3(), "-c", script, file.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertEquals(0, p.waitFor(), out);
        // Each row: filter byte 0, then R G B per pixel.
        assertEquals("IHDR,IDAT,IEND 00010203ffffff7f0080" + "00000000abcdef102030", out);
    }
}
