package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import org.junit.jupiter.api.Test;

/** Values passed by reference between the driver and tasks in its JVM, or serialised otherwise. */
class HeldValuesTest {
    /** A 1 MiB value: what travels is either a key (far smaller) or all of it. */
    private static double[] value() {
        double[] v = new double[1 << 17];
        for (int i = 0; i < v.length; i++) {
            v[i] = i * 0.5 - 7;
        }
        return v;
    }

    private static byte[] serialise(Object o) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(o);
        }
        return bytes.toByteArray();
    }

    @SuppressWarnings("unchecked")
    private static <T> T deserialise(byte[] bytes) throws IOException, ClassNotFoundException {
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes))) {
            return (T) in.readObject();
        }
    }

    @Test
    void aHeldResultTravelsAsItsKeyAndIsTakenOnceAsTheSameObject() throws Exception {
        double[] v = value();
        long holds = HeldValues.holds();
        byte[] bytes = serialise(HeldValues.Handed.of("test-a/", v, true));
        assertEquals(holds + 1, HeldValues.holds());
        assertTrue(bytes.length < 1_000, bytes.length + " bytes");
        assertEquals(1, HeldValues.held("test-a/"));

        HeldValues.Handed<double[]> arrived = deserialise(bytes);
        assertSame(v, arrived.get());
        assertSame(v, arrived.get(), "taken once, then kept by the result");
        assertEquals(0, HeldValues.held("test-a/"));

        HeldValues.Handed<double[]> again = deserialise(bytes);
        IllegalStateException e = assertThrows(IllegalStateException.class, again::get);
        assertTrue(e.getMessage().matches("value test-a/[-0-9a-f]{36} is not held in this JVM \\(it is held only where"
                + " the driver runs, for tasks of local mode, and taken once\\)"), e.getMessage());
    }

    @Test
    void aResultMadeInAnotherExecutorTravelsWhole() throws Exception {
        double[] v = value();
        long holds = HeldValues.holds();
        byte[] bytes = serialise(HeldValues.Handed.of("test-b/", v, false));
        assertEquals(holds, HeldValues.holds());
        assertEquals(0, HeldValues.held("test-b/"));
        assertTrue(bytes.length > v.length * Double.BYTES, bytes.length + " bytes");
        HeldValues.Handed<double[]> arrived = deserialise(bytes);
        assertNotSame(v, arrived.get());
        assertArrayEquals(v, arrived.get());
    }

    @Test
    void releaseDropsTheResultsNoOneTookUnderItsPrefixOnly() throws Exception {
        byte[] first = serialise(HeldValues.Handed.of("test-c/pass 1/", value(), true));
        HeldValues.Handed.of("test-c/pass 1/", value(), true);
        HeldValues.Handed<double[]> other = HeldValues.Handed.of("test-c/pass 2/", value(), true);
        assertEquals(3, HeldValues.held("test-c/"));
        HeldValues.release("test-c/pass 1/");
        assertEquals(0, HeldValues.held("test-c/pass 1/"));
        assertEquals(1, HeldValues.held("test-c/"));
        assertThrows(IllegalStateException.class, () -> HeldValuesTest.<HeldValues.Handed<double[]>>deserialise(first).get());
        HeldValues.Handed<double[]> kept = deserialise(serialise(other));
        assertEquals(-7.0, kept.get()[0]);
        assertEquals(0, HeldValues.held("test-c/"));
    }

    @Test
    void aHeldSharedValueIsReadInPlaceByEveryTaskUntilClosed() throws Exception {
        double[] v = value();
        HeldValues.Shared<double[]> shared = HeldValues.Shared.held(v);
        byte[] bytes = serialise(shared);
        assertTrue(bytes.length < 1_000, bytes.length + " bytes");
        HeldValues.Shared<double[]> task1 = deserialise(bytes);
        HeldValues.Shared<double[]> task2 = deserialise(bytes);
        assertSame(v, task1.value());
        assertSame(v, task2.value());
        assertSame(v, task1.value(), "read, not taken");
        shared.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, task2::value);
        assertTrue(e.getMessage().matches("value shared/[-0-9a-f]{36} is not held in this JVM \\(it is held only where"
                + " the driver runs, for tasks of local mode\\)"), e.getMessage());
    }
}
