package io.layerscope.reliability;

import io.layerscope.spark.SweepHook;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Holds a sweep in the middle of writing its results, for a signal to land there whatever the
 * machine's speed: it writes a part of a table into the staging directory, says so on stderr, then
 * waits (up to a minute) for the signal that ends the JVM.
 */
public final class HoldResultsWriting implements SweepHook {
    /** The line this hook prints once the staging directory holds a part of a table. */
    static final String HOLDING = "test hook: holding the results' writing in ";

    @Override
    public void resultsWriting(Path staging) {
        try {
            Files.writeString(Files.createDirectories(staging.resolve("layers.parquet")).resolve("part-00000.parquet"),
                    "half a table");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        System.err.println(HOLDING + staging);
        try {
            Thread.sleep(60_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
