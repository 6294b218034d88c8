package io.layerscope.reliability;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Child-JVM side of {@link HugePageAllocationIT}: makes one 64 MiB libtorch array (an activation's
 * size at 2048 tokens) and prints how much more of this process's anonymous memory is in
 * transparent huge pages while it lives ({@code AnonHugePages} of /proc/self/smaps_rollup, in KB),
 * after what an executor decides for its machine before libtorch starts.
 */
public final class HugePageProbe {
    private HugePageProbe() {
    }

    public static void main(String[] args) throws Exception {
        // as an executor's task does before libtorch starts
        io.layerscope.spark.HugePageAllocation.decideOnThisMachine();
        try (NDManager m = NDManager.newBaseManager()) {
            m.ones(new Shape(1024)).close();   // libtorch started: its own set-up is not counted
            long before = anonHugePagesKb();
            NDArray big = m.ones(new Shape(16L << 20));
            long after = anonHugePagesKb();
            System.out.println("hugeKb=" + (after - before) + " sum=" + big.sum().getFloat());
        }
    }

    private static long anonHugePagesKb() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/smaps_rollup")).stream()
                .filter(l -> l.startsWith("AnonHugePages:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("[^0-9]", "")))
                .sum();
    }
}
