package io.layerscope.results;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;

/**
 * Hadoop's local file system (checksums included), but setting a new file's or directory's mode
 * through java.nio rather than a {@code chmod} child process. Without Hadoop's native library,
 * which Spark's jars do not bring, {@link RawLocalFileSystem} starts one {@code chmod} for every
 * directory and file it creates (five for a Parquet table with its checksums and _SUCCESS), and a
 * process started from a JVM holding a model is slow to start on a busy machine. The modes set
 * are the same; a mode java.nio cannot express (sticky bit) or a file store without POSIX
 * attributes falls back to Hadoop's own way.
 *
 * <pre>{@code
 * Configuration conf = LocalFileModes.install(new Configuration(spark.sparkContext().hadoopConfiguration()));
 * }</pre>
 */
public final class LocalFileModes extends LocalFileSystem {
    private static final String IMPL = "fs.file.impl";

    public LocalFileModes() {
        super(new Raw());
    }

    /**
     * Makes {@code conf} (a copy the caller owns) open {@code file:} paths with this file system,
     * unless it already names one (a cluster's or a test's {@code spark.hadoop.fs.file.impl}). The
     * file system cache is bypassed for {@code file:} with it: the cache is keyed by scheme, not by
     * configuration, and holds Hadoop's own local file system already.
     */
    public static Configuration install(Configuration conf) {
        if (conf.get(IMPL) == null) {
            conf.setClass(IMPL, LocalFileModes.class, org.apache.hadoop.fs.FileSystem.class);
            conf.setBoolean("fs.file.impl.disable.cache", true);
        }
        return conf;
    }

    /** The raw local file system with {@link #setPermission} through java.nio. */
    static final class Raw extends RawLocalFileSystem {
        @Override
        public void setPermission(Path p, FsPermission permission) throws IOException {
            short mode = permission.toShort();
            if ((mode & ~0777) != 0) {
                super.setPermission(p, permission);
                return;
            }
            try {
                Files.setPosixFilePermissions(pathToFile(p).toPath(), permissions(mode));
            } catch (UnsupportedOperationException e) {
                super.setPermission(p, permission);
            }
        }
    }

    /** The permission bits of an octal mode such as 0644. */
    static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] all = PosixFilePermission.values();   // owner rwx, group rwx, others rwx
        for (int i = 0; i < all.length; i++) {
            if ((mode & (1 << (all.length - 1 - i))) != 0) {
                set.add(all[i]);
            }
        }
        return set;
    }
}
