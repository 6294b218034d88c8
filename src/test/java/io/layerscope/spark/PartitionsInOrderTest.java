package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The driver's side of {@link PartitionsInOrder}: partitions arriving in any order, handed over in order. */
class PartitionsInOrderTest {
    @Test
    void partitionsThatArriveEarlyWaitForTheOnesBeforeThem() {
        List<String> seen = new ArrayList<>();
        List<String> arrived = new ArrayList<>();
        PartitionsInOrder.InOrder<String, String> handler = new PartitionsInOrder.InOrder<>(s -> {
            arrived.add(s);
            return s.toUpperCase(java.util.Locale.ROOT);
        }, seen::add);
        handler.apply(2, new ArrayList<>(List.of("c1", "c2")));
        handler.apply(1, new ArrayList<>(List.of("b")));
        assertEquals(List.of(), seen);
        assertEquals(List.of("c1", "c2", "b"), arrived);
        assertEquals(2, handler.waiting());
        handler.apply(0, new ArrayList<>(List.of("a")));
        assertEquals(List.of("A", "B", "C1", "C2"), seen);
        assertEquals(0, handler.waiting());
        handler.apply(4, new ArrayList<>());
        handler.apply(3, new ArrayList<>(List.of("d")));
        assertEquals(List.of("A", "B", "C1", "C2", "D"), seen);
        handler.checkAllHandedOver(5);
        assertEquals(2, handler.mostWaiting());
    }

    @Test
    void aMissingPartitionIsAnError() {
        PartitionsInOrder.InOrder<String, String> handler = new PartitionsInOrder.InOrder<>(s -> s, s -> { });
        handler.apply(1, new ArrayList<>(List.of("b")));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> handler.checkAllHandedOver(2));
        assertEquals("handed over 0 of 2 partitions, 1 waiting", e.getMessage());
    }
}
