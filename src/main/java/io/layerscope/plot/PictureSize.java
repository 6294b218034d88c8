package io.layerscope.plot;

import io.layerscope.LayerscopeException;
import java.io.Serializable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The pixel size of the 9-panel layer pictures ({@code --png-size WIDTHxHEIGHT}). Drawing and PNG
 * encoding cost grows with the pixel count, so a smaller picture renders faster; text scales with
 * the width. At least 600 x 500 (nine readable panels), at most 8000 x 8000 (an int raster of
 * 256 MB per task).
 */
public record PictureSize(int width, int height) implements Serializable {
    public static final PictureSize DEFAULT = new PictureSize(LayerAnalysisChart.DEFAULT_WIDTH, LayerAnalysisChart.DEFAULT_HEIGHT);
    /** The default as --png-size takes it (a constant, for the options' declarations). */
    public static final String DEFAULT_TEXT = LayerAnalysisChart.DEFAULT_WIDTH + "x" + LayerAnalysisChart.DEFAULT_HEIGHT;
    static final int MAX_SIDE = 8000;
    /** Leading zeros are taken as written by a script padding its numbers, not as more digits. */
    private static final Pattern FORM = Pattern.compile("\\s*0*(\\d{1,9})\\s*[xX]\\s*0*(\\d{1,9})\\s*");
    /** Digits past nine: a size, out of range (not a malformed one). */
    private static final Pattern TOO_MANY_DIGITS = Pattern.compile("\\s*\\d+\\s*[xX]\\s*\\d+\\s*");

    /** Parses {@code WIDTHxHEIGHT}, e.g. {@code 1800x1500}. */
    public static PictureSize parse(String text) {
        Matcher m = FORM.matcher(text);
        if (!m.matches()) {
            if (TOO_MANY_DIGITS.matcher(text).matches()) {
                throw outOfRange(text.strip().replace('X', 'x'));
            }
            throw new LayerscopeException("--png-size '" + text + "' is not WIDTHxHEIGHT in pixels; e.g. --png-size 1800x1500");
        }
        int width = Integer.parseInt(m.group(1));
        int height = Integer.parseInt(m.group(2));
        if (width < FigureLayout.MIN_WIDTH || height < FigureLayout.MIN_HEIGHT || width > MAX_SIDE || height > MAX_SIDE) {
            throw outOfRange(width + "x" + height);
        }
        return new PictureSize(width, height);
    }

    private static LayerscopeException outOfRange(String size) {
        return new LayerscopeException("--png-size " + size + " is out of range: at least " + FigureLayout.MIN_WIDTH + "x"
                + FigureLayout.MIN_HEIGHT + " (nine readable panels), at most " + MAX_SIDE + "x" + MAX_SIDE);
    }

    @Override
    public String toString() {
        return width + "x" + height;
    }
}
