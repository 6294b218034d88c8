package io.layerscope.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** {@link HugePages}: taken where the kernel offers transparent huge pages, a harmless no-op otherwise. */
class HugePagesTest {
    private static final Path THP = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");

    @Test
    void aBufferHoldingWholeHugePagesIsAdvisedWhereTheKernelHasThem() throws Exception {
        boolean kernelOffers = Files.isReadable(THP) && !Files.readString(THP).contains("[never]");
        ByteBuffer big = ByteBuffer.allocateDirect((int) (3 * HugePages.SIZE));
        assertEquals(kernelOffers && HugePages.available(), HugePages.advise(big), Files.isReadable(THP)
                ? Files.readString(THP).trim() : "no THP on this kernel");
    }

    @Test
    void buffersWithoutAWholeHugePageOrOnTheHeapAreLeftAlone() {
        assertFalse(HugePages.advise(ByteBuffer.allocateDirect(4096)));
        assertFalse(HugePages.advise(ByteBuffer.allocate((int) (3 * HugePages.SIZE))));
    }
}
