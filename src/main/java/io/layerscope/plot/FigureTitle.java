package io.layerscope.plot;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.Rectangle;

/** A figure's centred two-line title (bold title, grey subtitle), shrunk to fit its band. */
final class FigureTitle {
    private static final Color SUBTITLE = new Color(0x444444);

    private FigureTitle() {
    }

    static void draw(Graphics2D g2, FigureStyle style, Rectangle band, String first, String second) {
        Font big = fit(g2, style.figureTitleFont(), first, band.width);
        Font small = fit(g2, style.figureSubtitleFont(), second, band.width);
        FontMetrics bm = g2.getFontMetrics(big);
        FontMetrics sm = g2.getFontMetrics(small);
        int gap = style.px(10);
        int total = bm.getAscent() + bm.getDescent() + gap + sm.getAscent() + sm.getDescent();
        int y = band.y + (band.height - total) / 2 + bm.getAscent();
        g2.setColor(FigureStyle.TEXT);
        g2.setFont(big);
        g2.drawString(first, band.x + (band.width - bm.stringWidth(first)) / 2, y);
        y += bm.getDescent() + gap + sm.getAscent();
        g2.setFont(small);
        g2.setColor(SUBTITLE);
        g2.drawString(second, band.x + (band.width - sm.stringWidth(second)) / 2, y);
    }

    /** The font, made smaller (down to 8 pt) until {@code text} fits {@code width}. */
    static Font fit(Graphics2D g2, Font font, String text, int width) {
        Font f = font;
        while (f.getSize() > 8 && g2.getFontMetrics(f).stringWidth(text) > width) {
            f = f.deriveFont((float) (f.getSize() - 1));
        }
        return f;
    }
}
