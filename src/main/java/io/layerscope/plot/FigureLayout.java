package io.layerscope.plot;

import io.layerscope.LayerscopeException;
import java.awt.Rectangle;

/**
 * Where things go on the layer picture: a title band across the top, then a 3 x 3 grid of panels.
 * Rows are equal; columns are 40% (heatmaps, which also hold a colour bar), 34% (histograms) and
 * 26% (statistics) of the width inside the outer margin.
 *
 * <pre>{@code
 * FigureLayout layout = new FigureLayout(2400, 2000);
 * Rectangle wandaHeatmap = layout.panel(2, 0);
 * }</pre>
 */
public final class FigureLayout {
    /** Rows of panels: weight magnitude, activation norm, Wanda metric. */
    public static final int ROWS = 3;
    /** Columns of panels: heatmap (or per-feature line), histogram, statistics. */
    public static final int COLUMNS = 3;
    private static final double[] COLUMN_SHARE = {0.40, 0.34, 0.26};
    static final int MIN_WIDTH = 600;
    static final int MIN_HEIGHT = 500;

    private final int width;
    private final int height;
    private final Rectangle title;
    private final Rectangle[][] panels = new Rectangle[ROWS][COLUMNS];

    public FigureLayout(int width, int height) {
        if (width < MIN_WIDTH || height < MIN_HEIGHT) {
            throw new LayerscopeException("layer picture size " + width + " x " + height
                    + " px is too small for nine readable panels; use at least " + MIN_WIDTH + " x " + MIN_HEIGHT);
        }
        this.width = width;
        this.height = height;
        int margin = (int) Math.round(width * 0.008);
        int titleHeight = (int) Math.round(width * 0.05);
        title = new Rectangle(margin, margin, width - 2 * margin, titleHeight);
        int top = margin + titleHeight;
        int innerWidth = width - 2 * margin;
        int innerHeight = height - top - margin;
        int x = margin;
        for (int c = 0; c < COLUMNS; c++) {
            int w = c == COLUMNS - 1 ? width - margin - x : (int) Math.round(innerWidth * COLUMN_SHARE[c]);
            for (int r = 0; r < ROWS; r++) {
                int y = top + r * innerHeight / ROWS;
                int h = top + (r + 1) * innerHeight / ROWS - y;
                panels[r][c] = new Rectangle(x, y, w, h);
            }
            x += w;
        }
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    /** The band that holds the figure title and its subtitle. */
    public Rectangle title() {
        return new Rectangle(title);
    }

    /** The area of panel {@code (row, column)}, both counted from 0 at the top left. */
    public Rectangle panel(int row, int column) {
        return new Rectangle(panels[row][column]);
    }
}
