package io.layerscope;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FlockTest {
    /** A failed call is told in the C library's words, with the number (it said only "errno 2"). */
    @Test
    void aLockFileThatCannotBeOpenedIsToldInWords(@TempDir Path tmp) {
        Path file = tmp.resolve("missing").resolve(".x.lock");
        assertEquals("cannot open the lock file " + file + ": No such file or directory (errno 2)",
                assertThrows(IOException.class, () -> Flock.exclusive(file)).getMessage());
    }
}
