package io.layerscope;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.FileNotFoundException;
import java.io.IOException;
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
}
