package io.layerscope;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

class FailuresTest {
    @Test
    void anIOExceptionIsReturnedAsItIs() {
        IOException missing = new FileNotFoundException("/no/such/file");
        assertSame(missing, Failures.asIOException(missing));
    }

    @Test
    void uncheckedFailuresAreThrownAsTheyAre() {
        LayerscopeException refused = new LayerscopeException("Layer x: refused");
        assertSame(refused, assertThrows(LayerscopeException.class, () -> Failures.asIOException(refused)));
        OutOfMemoryError heap = new OutOfMemoryError("Java heap space");
        assertSame(heap, assertThrows(OutOfMemoryError.class, () -> Failures.asIOException(heap)));
    }

    @Test
    void anotherCheckedFailureIsWrapped() {
        TimeoutException late = new TimeoutException("late");
        IOException wrapped = Failures.asIOException(late);
        assertSame(late, wrapped.getCause());
        assertEquals("java.util.concurrent.TimeoutException: late", wrapped.getMessage());
    }

    @Test
    void theCausesAreWalkedOutermostFirstAndALoopEnds() {
        IOException disk = new IOException("No space left on device");
        RuntimeException task = new RuntimeException("task failed", new java.io.UncheckedIOException(disk));
        assertEquals(List.of(task, task.getCause(), disk), Failures.causes(task));
        assertSame(disk, Failures.cause(task, IOException.class));
        assertSame(task.getCause(), Failures.cause(task, java.io.UncheckedIOException.class));
        assertNull(Failures.cause(task, LayerscopeException.class));
        assertEquals(List.of(), Failures.causes(null));
        // a -> b -> a: initCause refuses only a self-cause, so a longer loop is possible
        Exception a = new Exception("a");
        Exception b = new Exception("b", a);
        a.initCause(b);
        assertEquals(List.of(a, b), Failures.causes(a));
    }
}
