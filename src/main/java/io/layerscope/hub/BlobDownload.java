package io.layerscope.hub;

import io.layerscope.Sha256;
import io.layerscope.LayerscopeException;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Puts one file's bytes into {@code blobs/<etag>}: streamed into {@code <etag>.incomplete},
 * resumed with a Range request after a cut or a stall (also across runs), and renamed into place
 * only when the size and, for LFS files, the sha256 match what the Hub announced. A corrupt
 * download is deleted, never kept.
 */
final class BlobDownload {

    static final int MAX_ATTEMPTS = 5;
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-\\d+/(\\d+|\\*)");

    private final HubHttp http;
    private final HubCache cache;
    private final HubSettings settings;
    private final ScheduledExecutorService watchdog;

    BlobDownload(HubHttp http, HubCache cache, HubSettings settings, ScheduledExecutorService watchdog) {
        this.http = http;
        this.cache = cache;
        this.settings = settings;
        this.watchdog = watchdog;
    }

    /**
     * Makes sure the blob of {@code meta} is in the cache, downloading it when it is not. Network
     * trouble is retried here; what escapes is a {@link LayerscopeException} (a local disk problem,
     * a corrupt download, an error status, retries exhausted).
     */
    void fetch(HubRepo repo, String revision, FileMetadata meta, ProgressListener progress) {
        Path blob = cache.blob(repo, meta.etag());
        if (Files.isRegularFile(blob)) {
            return;
        }
        try {
            fetchLocked(repo, revision, meta, blob, progress);
        } catch (IOException e) {
            throw cache.writeFailure(blob, e); // network errors never get here: they are retried or reported
        }
    }

    private void fetchLocked(HubRepo repo, String revision, FileMetadata meta, Path blob, ProgressListener progress)
            throws IOException {
        BlobLock lock = BlobLock.acquire(cache.lockFile(repo, meta.etag()));
        try {
            if (Files.isRegularFile(blob)) {
                return; // another process finished it while we waited
            }
            Path part = cache.incompleteBlob(repo, meta.etag());
            try {
                Files.createDirectories(blob.getParent());
            } catch (IOException e) {
                throw cache.writeFailure(blob.getParent(), e);
            }
            String sha = download(repo, revision, meta, part, progress, true);
            try {
                Files.move(part, blob, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(part, blob, StandardCopyOption.REPLACE_EXISTING);
            }
            // the bytes were hashed as they arrived: a sweep of this model need not read them again
            settings.sha256Cache().remember(blob, sha);
        } finally {
            lock.close();
        }
    }

    /** Completes {@code part} with the file's bytes and checks them; returns their sha256 (lowercase hex). */
    private String download(HubRepo repo, String revision, FileMetadata meta, Path part, ProgressListener progress,
            boolean mayRestart) throws IOException {
        long have = Files.isRegularFile(part) ? Files.size(part) : 0;
        if (have > meta.size()) {
            Files.delete(part); // cannot be a prefix of this file (and was not counted as done)
            have = 0;
        }
        boolean resumed = have > 0;
        MessageDigest digest = Sha256.newDigest();
        if (have > 0) {
            Sha256.update(digest, part, have);
        }
        int failures = 0;
        while (have < meta.size() || !Files.isRegularFile(part)) {
            try {
                long before = have;
                have = transfer(repo, revision, meta, part, have, digest, progress);
                if (have < meta.size()) {
                    throw new IOException("the connection closed after " + have + " of " + meta.size() + " bytes");
                }
                resumed |= before > 0 && have > before;
            } catch (TooLong e) {
                Files.deleteIfExists(part);
                throw new LayerscopeException("the server sent more than the " + meta.size() + " bytes the Hub announced"
                        + " for " + meta.file() + " of " + repo.describe() + " (from "
                        + Redaction.url(meta.location()) + "); nothing was kept. Check any proxy between here"
                        + " and the Hub.", e);
            } catch (IOException e) {
                failures++;
                resumed = true;
                if (failures >= MAX_ATTEMPTS) {
                    // no byte may have arrived at all (a server that never answered): then there is no partial file
                    long kept = Files.isRegularFile(part) ? Files.size(part) : 0;
                    throw new LayerscopeException("download of " + meta.file() + " of " + repo.describe()
                            + " stopped at " + kept + " of " + meta.size() + " bytes after " + MAX_ATTEMPTS
                            + " attempts (" + reason(e) + "). " + (kept > 0 ? "Run again to resume from there: the"
                            + " partial file " + part + " is kept." : "Nothing was kept; run again when the server answers."), e);
                }
                have = Files.isRegularFile(part) ? Files.size(part) : 0;
                progress.notice("download of " + meta.file() + " interrupted at " + have + " of " + meta.size()
                        + " bytes (" + reason(e) + "); resuming, attempt " + (failures + 1) + " of " + MAX_ATTEMPTS);
                pause(failures);
            }
        }
        String problem = null;
        long size = Files.size(part);
        String actual = Sha256.hex(digest);
        if (size != meta.size()) {
            problem = "it has " + size + " bytes where the Hub announced " + meta.size();
        } else if (Sha256.isSha256(meta.etag()) && !actual.equals(meta.etag())) {
            problem = "its sha256 is " + actual + " where the Hub announced " + meta.etag();
        }
        if (problem == null) {
            return actual;
        }
        Files.deleteIfExists(part);
        progress.advance(-size);
        if (resumed && mayRestart) {
            progress.notice("download of " + meta.file() + " was corrupt after resuming (" + problem
                    + "); downloading it again from the start");
            return download(repo, revision, meta, part, progress, false);
        }
        throw new LayerscopeException("the download of " + meta.file() + " of " + repo.describe() + " (from "
                + Redaction.url(meta.location()) + ") is corrupt: " + problem
                + ". Nothing was kept in the cache; run again, and if it persists check any proxy between here and"
                + " the Hub.");
    }

    /** One GET from {@code offset}; returns how many bytes the partial file has afterwards. */
    private long transfer(HubRepo repo, String revision, FileMetadata meta, Path part, long offset,
            MessageDigest digest, ProgressListener progress) throws IOException {
        HttpResponse<InputStream> response;
        try {
            response = http.download(meta.location(), offset, repo, revision, meta.file());
        } catch (HubResponseException e) {
            if (e.status() >= 500 || e.status() == 429) {
                throw new IOException("HTTP " + e.status()); // the server's trouble: worth another attempt
            }
            throw e;
        }
        long start = offset;
        if (response.statusCode() == 416 || (response.statusCode() == 206 && rangeStart(response) != offset)) {
            response.body().close();
            restart(part, digest, progress, offset);
            throw new IOException("the server refused to resume at byte " + offset);
        }
        if (response.statusCode() == 200 && offset > 0) {
            restart(part, digest, progress, offset); // the server ignored the Range header: start over
            start = 0;
        }
        long announced = response.headers().firstValueAsLong("Content-Length").orElse(-1);
        if (announced > meta.size() - start) {
            response.body().close();
            throw new TooLong(); // said before a byte is read: nothing to take in
        }
        // Stalled: less than STALL_MIN_BYTES (or the rest of the file) came in the download timeout.
        // A silent server and one that trickles a byte a second are both dropped, then resumed.
        AtomicLong position = new AtomicLong(start);
        AtomicLong stalledWith = new AtomicLong(-1); // bytes that came in the last window, once stalled
        long timeoutNanos = settings.downloadTimeout().toNanos();
        long[] mark = {System.nanoTime(), start}; // the watchdog's own: when and where enough last came
        long wanted = Math.min(HubSettings.STALL_MIN_BYTES, meta.size() - start);
        try (InputStream in = response.body();
                FileChannel out = openPart(part, start)) {
            long period = Math.max(1, timeoutNanos / 4);
            ScheduledFuture<?> check = watchdog.scheduleAtFixedRate(() -> {
                long now = System.nanoTime();
                long at = position.get();
                if (at - mark[1] >= Math.min(wanted, meta.size() - mark[1])) {
                    mark[0] = now;
                    mark[1] = at;
                } else if (now - mark[0] > timeoutNanos && stalledWith.compareAndSet(-1, at - mark[1])) {
                    closeQuietly(in); // unblocks the read below with an IOException
                }
            }, period, period, TimeUnit.NANOSECONDS);
            try {
                return copy(in, out, part, start, meta, digest, progress, position);
            } catch (IOException e) {
                long came = stalledWith.get();
                if (came >= 0) {
                    String seconds = settings.downloadTimeout().toMillis() / 1000.0 + " s";
                    throw new IOException(came == 0 ? "no data for " + seconds
                            : "less than " + ConsoleProgress.bytes(wanted) + " in " + seconds, e);
                }
                throw e;
            } finally {
                check.cancel(false);
            }
        }
    }

    private long copy(InputStream in, FileChannel out, Path part, long start, FileMetadata meta, MessageDigest digest,
            ProgressListener progress, AtomicLong done) throws IOException {
        byte[] buffer = new byte[1 << 16];
        long position = start;
        for (int n; (n = in.read(buffer)) > 0; ) {
            if (position + n > meta.size()) {
                throw new TooLong();
            }
            try {
                ByteBuffer bytes = ByteBuffer.wrap(buffer, 0, n);
                while (bytes.hasRemaining()) {
                    out.write(bytes);
                }
            } catch (IOException e) {
                throw cache.writeFailure(part, e); // not a network problem: do not retry
            }
            digest.update(buffer, 0, n);
            progress.advance(n);
            position += n;
            done.set(position);
        }
        return position;
    }

    private FileChannel openPart(Path part, long start) throws IOException {
        try {
            FileChannel out = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            out.truncate(start);
            out.position(start);
            return out;
        } catch (IOException e) {
            throw cache.writeFailure(part, e);
        }
    }

    private static void restart(Path part, MessageDigest digest, ProgressListener progress, long discarded)
            throws IOException {
        Files.deleteIfExists(part);
        digest.reset();
        progress.advance(-discarded);
    }

    private static long rangeStart(HttpResponse<?> response) {
        Matcher m = CONTENT_RANGE.matcher(response.headers().firstValue("Content-Range").orElse(""));
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    private static void pause(int failures) {
        try {
            Thread.sleep(Math.min(4000, 250L << Math.min(failures, 4)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LayerscopeException("interrupted while waiting to resume a download", e);
        }
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException e) {
            // the reader sees the closed stream either way
        }
    }

    /** The body is longer than the announced size: corrupt, not worth resuming. */
    private static final class TooLong extends IOException {
        private static final long serialVersionUID = 1L;
    }

    static String reason(IOException e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }
}
