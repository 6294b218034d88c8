package io.layerscope.spark;

import io.layerscope.hub.Sha256Cache;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.SafetensorsFile;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * The sha256 of every weight file for run.json, computed on a background thread from the start of
 * the job: hashing a multi-GB checkpoint takes seconds, which would otherwise sit on the driver's
 * critical path after the stages. It reads the files while the driver samples the calibration
 * windows and waits for Spark (both leave cores idle), and is joined only when run.json is written.
 * A file unchanged since an earlier run is not read again ({@link Sha256Cache}).
 *
 * <pre>{@code
 * WeightHashes hashes = WeightHashes.start(checkpoint, Sha256Cache.forEnvironment(env));
 * ... // the job
 * Map<Path, String> sha = hashes.get();   // file -> lowercase hex sha256
 * }</pre>
 */
final class WeightHashes implements AutoCloseable {
    private final CompletableFuture<Map<Path, String>> result = new CompletableFuture<>();
    private final Thread thread;

    private WeightHashes(Checkpoint ckpt, Sha256Cache cache) {
        thread = new Thread(() -> {
            try {
                Map<Path, String> sums = new LinkedHashMap<>();
                for (SafetensorsFile f : ckpt.files()) {
                    sums.put(f.path(), cache.of(f.path()));
                }
                result.complete(sums);
            } catch (IOException | RuntimeException e) {
                result.completeExceptionally(e);
            }
        }, "layerscope-weight-hashes");
        thread.setDaemon(true);
    }

    /**
     * Starts hashing the checkpoint's safetensors files in the background, through {@code cache}
     * (the one the command's environment names, where a download by layerscope recorded its hashes).
     */
    static WeightHashes start(Checkpoint ckpt, Sha256Cache cache) {
        WeightHashes h = new WeightHashes(ckpt, cache);
        h.thread.start();
        return h;
    }

    /** Waits for the hashes: file path (as the checkpoint lists it) to lowercase hex sha256. */
    Map<Path, String> get() throws IOException {
        try {
            return result.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while hashing the weight files");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw (RuntimeException) e.getCause();
        }
    }

    /** Stops hashing (a failed job does not need the sums): the thread ends at its next buffer. */
    @Override
    public void close() {
        thread.interrupt();
    }
}
