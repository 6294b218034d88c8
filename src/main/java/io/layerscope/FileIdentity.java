package io.layerscope;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * What a Unix file system says changes with a file's content: device, inode, size, modification and
 * status-change times. The status-change time (ctime) cannot be set back by a user, and writing the
 * file or setting its modification time moves it, so a file rewritten with its size and mtime kept
 * (`cp -p`, `tar x`, `rsync -t`) still gets a new identity. Caches trust this instead of reading
 * gigabytes of weights again; a chmod or a rename moves the ctime too, which costs them one miss.
 *
 * <pre>{@code
 * Optional<FileIdentity> id = FileIdentity.of(path.toRealPath());   // empty off Unix file systems
 * }</pre>
 */
public record FileIdentity(long device, long inode, long size, long mtimeNanos, long ctimeNanos) {
    /** The identity of {@code real} (a resolved path), or empty where the file system has no Unix attributes. */
    public static Optional<FileIdentity> of(Path real) {
        try {
            Map<String, Object> a = Files.readAttributes(real, "unix:dev,ino,size,lastModifiedTime,ctime");
            return Optional.of(new FileIdentity((Long) a.get("dev"), (Long) a.get("ino"), (Long) a.get("size"),
                    nanos((FileTime) a.get("lastModifiedTime")), nanos((FileTime) a.get("ctime"))));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException
                 | NullPointerException e) {
            return Optional.empty();
        }
    }

    /**
     * What a cache's key holds of {@code real}: its identity, or off Unix file systems its size and
     * modification time.
     */
    public static String describe(Path real) throws IOException {
        Optional<FileIdentity> identity = of(real);
        return identity.isPresent() ? identity.get().toString()
                : "size=" + Files.size(real) + " mtime=" + Files.getLastModifiedTime(real).to(TimeUnit.NANOSECONDS);
    }

    private static long nanos(FileTime t) {
        Instant i = t.toInstant();
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }

    /** The later of the modification and status-change times. */
    public Instant lastChange() {
        return Instant.ofEpochSecond(0, Math.max(mtimeNanos, ctimeNanos));
    }

    /** The form caches write (the weight-hash cache's entries hold it, so it must not change). */
    @Override
    public String toString() {
        return "dev=" + device + " ino=" + inode + " size=" + size + " mtime=" + mtimeNanos + " ctime=" + ctimeNanos;
    }
}
