package io.layerscope.plot;

import io.layerscope.model.LayerKind;
import java.awt.Color;
import java.awt.Shape;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * One colour and marker per layer kind, the same in the overview chart and on the report page:
 * matplotlib's tab10 colours in module order (q_proj blue, k_proj orange, v_proj green, o_proj red,
 * gate_proj purple, up_proj brown, down_proj pink), lm_head grey. Markers differ too, so kinds whose
 * lines coincide (q, k and v read the same input) stay distinguishable, also without colour.
 *
 * <pre>{@code
 * String css = KindStyle.hex("gate_proj");   // "#9467bd"
 * }</pre>
 */
public final class KindStyle {
    /** tab10, C0..C9. */
    private static final int[] TAB10 = {
        0x1F77B4, 0xFF7F0E, 0x2CA02C, 0xD62728, 0x9467BD, 0x8C564B, 0xE377C2, 0x7F7F7F, 0xBCBD22, 0x17BECF};
    private static final int HEAD_COLOUR = 7;   // grey
    private static final int FIRST_OTHER = 8;   // olive, cyan for kinds this code does not know

    private KindStyle() {
    }

    /** Position of a kind in module order (LayerKind's order); unknown kinds after all known ones. */
    static int order(String kind) {
        LayerKind[] kinds = LayerKind.values();
        for (int i = 0; i < kinds.length; i++) {
            if (kinds[i].shortName().equals(kind)) {
                return i;
            }
        }
        return kinds.length;
    }

    /** The distinct kinds of {@code kinds} in module order, unknown kinds last by name. */
    static List<String> sorted(List<String> kinds) {
        return kinds.stream().distinct()
                .sorted(Comparator.comparingInt(KindStyle::order).thenComparing(Comparator.naturalOrder()))
                .toList();
    }

    /** The kind's colour as 0xRRGGBB. */
    public static int rgb(String kind) {
        int i = order(kind);
        if (LayerKind.LM_HEAD.shortName().equals(kind)) {
            return TAB10[HEAD_COLOUR];
        }
        if (i < LayerKind.values().length) {
            return TAB10[i];
        }
        return TAB10[FIRST_OTHER + Math.floorMod(kind.hashCode(), TAB10.length - FIRST_OTHER)];
    }

    /** The kind's colour as CSS, {@code #rrggbb}. */
    public static String hex(String kind) {
        return String.format("#%06x", rgb(kind));
    }

    static Color color(String kind) {
        return new Color(rgb(kind));
    }

    /** The kind's marker, centred on (0, 0), {@code r} pixels from centre to edge. */
    static Shape marker(String kind, double r) {
        return switch (Math.min(order(kind), LayerKind.values().length)) {
            case 0 -> new Ellipse2D.Double(-r, -r, 2 * r, 2 * r);
            case 1 -> new Rectangle2D.Double(-0.85 * r, -0.85 * r, 1.7 * r, 1.7 * r);
            case 2 -> polygon(r, 3, -90);                // triangle up
            case 3 -> polygon(r, 4, 0);                  // diamond
            case 4 -> polygon(r, 3, 90);                 // triangle down
            case 5 -> polygon(r, 5, -90);                // pentagon
            case 6 -> cross(r);
            case 7 -> polygon(1.25 * r, 4, 0);           // lm_head: a larger diamond
            default -> polygon(r, 6, 0);                 // hexagon
        };
    }

    private static Shape polygon(double r, int corners, double startDegrees) {
        Path2D.Double p = new Path2D.Double();
        for (int k = 0; k < corners; k++) {
            double a = Math.toRadians(startDegrees + 360.0 * k / corners);
            if (k == 0) {
                p.moveTo(r * Math.cos(a), r * Math.sin(a));
            } else {
                p.lineTo(r * Math.cos(a), r * Math.sin(a));
            }
        }
        p.closePath();
        return p;
    }

    /** A plus sign with arms a third of r thick: a closed outline, so it can be drawn hollow like the others. */
    private static Shape cross(double r) {
        double t = r / 3;
        double[] xs = {-t, t, t, r, r, t, t, -t, -t, -r, -r, -t};
        double[] ys = {-r, -r, -t, -t, t, t, r, r, t, t, -t, -t};
        Path2D.Double p = new Path2D.Double();
        p.moveTo(xs[0], ys[0]);
        for (int i = 1; i < xs.length; i++) {
            p.lineTo(xs[i], ys[i]);
        }
        p.closePath();
        return p;
    }

    /** All known kinds, for tests and legends. */
    static List<String> knownKinds() {
        return Arrays.stream(LayerKind.values()).map(LayerKind::shortName).toList();
    }
}
