package io.layerscope.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.Shape;
import java.awt.geom.RoundRectangle2D;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A text panel: the caller's label/value pairs in their given order, as a two-column table in a
 * monospaced font (labels left, values right-aligned), in a light rounded box under a bold title. The
 * font shrinks until every line fits, down to {@value #MIN_FONT} px; below that the text is clipped.
 */
final class StatisticsPanel {
    static final int MIN_FONT = 9;
    private static final String EMPTY = "(no statistics)";
    private static final double LINE_SPACING = 1.45;
    private static final Color BOX_FILL = new Color(0xF6F6F2);

    private StatisticsPanel() {
    }

    /**
     * The lines drawn for {@code stats}: label padded to the longest label, two spaces, value
     * right-aligned to the longest value, e.g. {@code "mean     0.0123"}.
     */
    static List<String> lines(Map<String, String> stats) {
        if (stats.isEmpty()) {
            return List.of(EMPTY);
        }
        int labelWidth = stats.keySet().stream().mapToInt(String::length).max().orElse(0);
        int valueWidth = stats.values().stream().mapToInt(String::length).max().orElse(0);
        List<String> lines = new ArrayList<>();
        stats.forEach((label, value) -> lines.add(pad(label, labelWidth, false) + "  " + pad(value, valueWidth, true)));
        return lines;
    }

    private static String pad(String s, int width, boolean left) {
        String spaces = " ".repeat(width - s.length());
        return left ? spaces + s : s + spaces;
    }

    static void draw(Graphics2D g2, Rectangle area, String title, Map<String, String> stats, FigureStyle style) {
        g2.setColor(Color.WHITE);
        g2.fill(area);
        g2.setFont(style.panelTitleFont());
        FontMetrics tm = g2.getFontMetrics();
        g2.setColor(FigureStyle.TEXT);
        int titleBaseline = area.y + style.px(14) + tm.getAscent();
        g2.drawString(title, area.x + (area.width - tm.stringWidth(title)) / 2, titleBaseline);

        // The table sits in a light rounded box sized to the text, like a matplotlib text bbox.
        int inset = style.px(20);
        int top = titleBaseline + tm.getDescent() + style.px(14);
        int maxWidth = area.width - 2 * style.px(16);
        int maxHeight = area.y + area.height - style.px(16) - top;
        List<String> lines = lines(stats);
        int size = fittingFontSize(g2, lines, maxWidth - 2 * inset, maxHeight - 2 * inset, style);
        g2.setFont(style.statisticsFont(size));
        FontMetrics fm = g2.getFontMetrics();
        int lineHeight = (int) Math.round(size * LINE_SPACING);
        int textWidth = lines.stream().mapToInt(fm::stringWidth).max().orElse(0);
        int textHeight = lineHeight * (lines.size() - 1) + fm.getAscent() + fm.getDescent();
        int boxWidth = Math.min(maxWidth, textWidth + 2 * inset);
        int boxHeight = Math.min(maxHeight, textHeight + 2 * inset);
        RoundRectangle2D box = new RoundRectangle2D.Double(area.x + (area.width - boxWidth) / 2.0, top, boxWidth,
                boxHeight, style.px(16), style.px(16));
        g2.setColor(BOX_FILL);
        g2.fill(box);
        g2.setColor(FigureStyle.LIGHT_FRAME);
        g2.setStroke(new BasicStroke(1.2f));
        g2.draw(box);

        Shape clip = g2.getClip();
        g2.clip(box);
        g2.setColor(stats.isEmpty() ? Color.GRAY : FigureStyle.TEXT);
        int x = (int) Math.round(box.getX()) + inset;
        int y = top + inset + fm.getAscent();
        for (String line : lines) {
            g2.drawString(line, x, y);
            y += lineHeight;
        }
        g2.setClip(clip);
    }

    private static int fittingFontSize(Graphics2D g2, List<String> lines, int width, int height, FigureStyle style) {
        int size = style.statisticsFontSize();
        for (; size > MIN_FONT; size--) {
            FontMetrics fm = g2.getFontMetrics(style.statisticsFont(size));
            int widest = lines.stream().mapToInt(fm::stringWidth).max().orElse(0);
            int tall = (int) Math.round(size * LINE_SPACING) * (lines.size() - 1) + fm.getAscent() + fm.getDescent();
            if (widest <= width && tall <= height) {
                break;
            }
        }
        return size;
    }
}
