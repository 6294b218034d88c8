package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.LayerscopeException;
import java.lang.management.ManagementFactory;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

class CompilerDirectivesTest {
    @Test
    void theDirectivesAreAddedUnlessTheJitIsToBeLeftAlone() {
        assertTrue(CompilerDirectives.wanted(null));
        assertTrue(CompilerDirectives.wanted(""));
        assertTrue(CompilerDirectives.wanted("directives"));
        assertTrue(CompilerDirectives.wanted("kernels"));   // the on setting's former name
        assertFalse(CompilerDirectives.wanted("all"));
        LayerscopeException e = assertThrows(LayerscopeException.class, () -> CompilerDirectives.wanted("c1"));
        assertEquals("LAYERSCOPE_JIT (or -Dlayerscope.jit) is 'c1'; use 'directives' (C2 only for layerscope's own"
                + " hot loops, the default) or 'all' (the JVM's JIT unchanged)", e.getMessage());
    }

    /**
     * Asked for, HotSpot parses the shipped file: its directives are in force, first the chart code kept at C1,
     * then the kernels, then the rest.
     */
    @Test
    void hotSpotHoldsTheDirectivesInOrder() throws Exception {
        // once per JVM: another test that asked for them may have added them already
        String before = System.getProperty("layerscope.jit");
        System.setProperty("layerscope.jit", "directives");
        try {
            assertTrue(CompilerDirectives.addOnce());
        } finally {
            if (before == null) {
                System.clearProperty("layerscope.jit");
            } else {
                System.setProperty("layerscope.jit", before);
            }
        }
        String printed = String.valueOf(ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), "compilerDirectivesPrint",
                new Object[] {new String[0]}, new String[] {String[].class.getName()}));
        int charts = printed.indexOf("matching: ");
        assertTrue(charts >= 0, printed);
        assertTrue(line(printed, charts).contains("io/layerscope/plot/UnionBarRenderer.*"), printed);
        int kernels = printed.indexOf("matching: ", charts + 1);
        assertTrue(kernels > charts, printed);
        assertEquals("true", c2Exclude(printed.substring(charts, kernels)), printed);
        String kernelPatterns = line(printed, kernels);
        for (String pattern : new String[] {"io/layerscope/stats/*.*", "io/layerscope/model/*.*",
                "io/layerscope/llama/*.*", "io/layerscope/prune/*.*", "io/layerscope/plot/*.*", "sun/security/provider/*.*", "java/util/DualPivotQuicksort.*"}) {
            assertTrue(kernelPatterns.contains(pattern), kernelPatterns);
        }
        int rest = printed.indexOf("matching: *.*", kernels);
        assertTrue(rest > kernels, printed);
        assertEquals("false", c2Exclude(printed.substring(kernels, rest)), printed);
        assertEquals("true", c2Exclude(printed.substring(rest)), printed);
    }

    private static String line(String text, int from) {
        return text.substring(from, text.indexOf('\n', from));
    }

    /** The Exclude flag of the first "c2 directives" block in a printed directive. */
    private static String c2Exclude(String directive) {
        String c2 = directive.substring(directive.indexOf("c2 directives"));
        int at = c2.indexOf("Exclude:") + "Exclude:".length();
        return c2.substring(at, c2.indexOf(' ', at));
    }
}
