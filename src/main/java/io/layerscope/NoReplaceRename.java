package io.layerscope;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A rename that never replaces what is at its target: Linux's renameat2 with RENAME_NOREPLACE,
 * through the C library (JNA). {@link Files#move} is rename(2), which silently replaces an empty
 * directory (or, for a file, any file) that appeared at the target after the caller looked; with
 * this, such a target fails the rename instead. Where the kernel, the C library or the file system
 * has no renameat2 (macOS, NFS, glibc before 2.28), it checks and then renames: two steps, as before.
 *
 * <pre>{@code
 * NoReplaceRename.move(staging, dir);   // FileAlreadyExistsException when dir exists
 * }</pre>
 */
public final class NoReplaceRename {
    private interface C extends Library {
        C LIBC = Native.load(Platform.C_LIBRARY_NAME, C.class);

        int renameat2(int olddirfd, String oldpath, int newdirfd, String newpath, int flags)
                throws com.sun.jna.LastErrorException;
    }

    private static final int AT_FDCWD = -100;
    private static final int RENAME_NOREPLACE = 1;
    private static final int EEXIST = 17;
    private static final int ENOTEMPTY = 39;

    private NoReplaceRename() {
    }

    /** Moves {@code from} to {@code to} (same file system), unless something is at {@code to}. */
    public static void move(Path from, Path to) throws IOException {
        if (Platform.isLinux()) {
            try {
                C.LIBC.renameat2(AT_FDCWD, from.toString(), AT_FDCWD, to.toString(), RENAME_NOREPLACE);
                return;
            } catch (com.sun.jna.LastErrorException e) {
                if (e.getErrorCode() == EEXIST || e.getErrorCode() == ENOTEMPTY) {
                    throw new FileAlreadyExistsException(to.toString());
                }
                // EINVAL or ENOSYS (no support here), EXDEV, EACCES...: Java's move says what it is
            } catch (UnsatisfiedLinkError e) {
                // a C library without renameat2
            }
        }
        if (Files.exists(to, LinkOption.NOFOLLOW_LINKS)) {
            throw new FileAlreadyExistsException(to.toString());
        }
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }
}
