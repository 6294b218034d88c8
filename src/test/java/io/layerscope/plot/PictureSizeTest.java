package io.layerscope.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerscope.LayerscopeException;
import org.junit.jupiter.api.Test;

class PictureSizeTest {
    @Test
    void widthByHeightWithEitherXAndSpaces() {
        assertEquals(new PictureSize(1800, 1500), PictureSize.parse("1800x1500"));
        assertEquals(new PictureSize(600, 500), PictureSize.parse(" 600 X 500 "));
        assertEquals(new PictureSize(8000, 8000), PictureSize.parse("8000x8000"));
        assertEquals(new PictureSize(1800, 1500), PictureSize.parse("0000000001800x01500"));
        assertEquals("1800x1500", PictureSize.DEFAULT.toString());
        assertEquals(PictureSize.DEFAULT, PictureSize.parse(PictureSize.DEFAULT_TEXT));
    }

    @Test
    void otherFormsAndSizesAreRefusedWithTheRange() {
        for (String bad : new String[] {"", "1800", "1800x", "x1500", "1800*1500", "-600x500", "1.5x2"}) {
            LayerscopeException e = assertThrows(LayerscopeException.class, () -> PictureSize.parse(bad));
            assertEquals("--png-size '" + bad + "' is not WIDTHxHEIGHT in pixels; e.g. --png-size 1800x1500", e.getMessage());
        }
        LayerscopeException e = assertThrows(LayerscopeException.class, () -> PictureSize.parse("600x499"));
        assertEquals("--png-size 600x499 is out of range: at least 600x500 (nine readable panels), at most 8000x8000",
                e.getMessage());
        assertThrows(LayerscopeException.class, () -> PictureSize.parse("8001x600"));
        assertThrows(LayerscopeException.class, () -> PictureSize.parse("999999999x600"));
        // past an int: out of range too, not malformed
        assertEquals("--png-size 2147483648x1 is out of range: at least 600x500 (nine readable panels), at most 8000x8000",
                assertThrows(LayerscopeException.class, () -> PictureSize.parse(" 2147483648X1")).getMessage());
    }
}
