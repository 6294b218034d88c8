package io.layerscope.llama;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;

/**
 * Asks Linux to back a weight's memory with transparent huge pages (madvise MADV_HUGEPAGE) before
 * it is first written. A model's float32 weights are gigabytes written once and read by every
 * forward: with 2 MiB pages the kernel takes one page fault where it would take 512, which is most
 * of a load's cost where faults are expensive (virtual machines whose host backs guest memory
 * lazily). Only a hint: where THP is off, the call fails, or this is not Linux, nothing changes.
 * Most distributions leave THP at "madvise", so without the hint large weights get 4 KiB pages.
 */
final class HugePages {
    static final long SIZE = 2L << 20;
    private static final int MADV_HUGEPAGE = 14;

    private interface C extends Library {
        int madvise(Pointer address, long length, int advice);
    }

    /** The C library, or null where this is not Linux or JNA cannot load it. */
    private static final C LIBC = load();

    private HugePages() {
    }

    private static C load() {
        if (!Platform.isLinux()) {
            return null;
        }
        try {
            return Native.load(Platform.C_LIBRARY_NAME, C.class);
        } catch (LinkageError | RuntimeException e) {
            return null;
        }
    }

    /**
     * Advises the whole 2 MiB pages inside {@code direct} (a direct buffer over native memory, such
     * as a CPU tensor's storage); the partial pages at either end keep the default. True when the
     * kernel took the advice for at least one huge page.
     */
    static boolean advise(ByteBuffer direct) {
        if (LIBC == null || !direct.isDirect()) {
            return false;
        }
        long address = Pointer.nativeValue(Native.getDirectBufferPointer(direct));
        long start = (address + SIZE - 1) & -SIZE;
        long end = (address + direct.capacity()) & -SIZE;
        if (end <= start) {
            return false;
        }
        try {
            return LIBC.madvise(new Pointer(start), end - start, MADV_HUGEPAGE) == 0;
        } catch (LinkageError | RuntimeException e) {
            return false;
        }
    }

    /** Whether the hint can be given here at all (Linux, JNA loaded). */
    static boolean available() {
        return LIBC != null;
    }
}
