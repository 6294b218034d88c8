package io.layerscope.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.awt.geom.PathIterator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class KindStyleTest {

    @Test
    void kindsTakeMatplotlibTab10InModuleOrder() {
        // matplotlib's tab10 (C0..C6, C7 grey), as published in matplotlib/_cm.py.
        List<String> expected = List.of("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2");
        assertEquals(expected, SweepSummaries.KINDS.stream().map(KindStyle::hex).toList());
        assertEquals("#7f7f7f", KindStyle.hex("lm_head"));
    }

    @Test
    void unknownKindsGetAColourOfTheirOwnAndSortLast() {
        assertEquals(List.of("q_proj", "down_proj", "lm_head", "a_proj", "z_proj"),
                KindStyle.sorted(List.of("z_proj", "lm_head", "down_proj", "a_proj", "q_proj", "q_proj")));
        String c = KindStyle.hex("w_pack");
        assertEquals(true, c.equals("#bcbd22") || c.equals("#17becf"), c);
    }

    @Test
    void everyKnownKindHasItsOwnMarker() {
        Set<String> outlines = new HashSet<>();
        for (String kind : KindStyle.knownKinds()) {
            outlines.add(outline(KindStyle.marker(kind, 10)));
        }
        assertEquals(KindStyle.knownKinds().size(), outlines.size());
        assertNotEquals(outline(KindStyle.marker("q_proj", 10)), outline(KindStyle.marker("q_proj", 12)));
    }

    private static String outline(java.awt.Shape s) {
        StringBuilder b = new StringBuilder();
        double[] c = new double[6];
        for (PathIterator it = s.getPathIterator(null); !it.isDone(); it.next()) {
            b.append(it.currentSegment(c)).append(String.format(":%.2f,%.2f;", c[0], c[1]));
        }
        return b.toString();
    }
}
