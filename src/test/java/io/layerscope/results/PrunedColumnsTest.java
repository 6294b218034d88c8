package io.layerscope.results;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class PrunedColumnsTest {
    @Test
    void rowsAreLookedUpByColumnInTheOrderAsked() {
        PrunedColumns p = new PrunedColumns(new int[] {7, 0, 300}, new int[] {5, 2, 9});
        assertArrayEquals(new int[] {9, 5, 2, 5}, p.rowsOf(new int[] {300, 7, 0, 7}));
        assertEquals("column 8 was not counted; counted: [7, 0, 300]",
                assertThrows(IllegalArgumentException.class, () -> p.rowsOf(new int[] {0, 8})).getMessage());
        assertEquals("column 301 was not counted; counted: [7, 0, 300]",
                assertThrows(IllegalArgumentException.class, () -> p.rowsOf(new int[] {301})).getMessage());
        assertEquals("3 columns but 2 counts", assertThrows(IllegalArgumentException.class,
                () -> new PrunedColumns(new int[] {1, 2, 3}, new int[] {1, 2})).getMessage());
    }
}
