package io.layerscope.spark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Linux's process and kernel files (/proc, /sys) that run.json's notes read. */
final class LinuxFiles {
    private LinuxFiles() {
    }

    /** The file's text, or "" where there is none (another system, a container without it): a note is then left out. */
    static String readOrEmpty(String path) {
        try {
            return Files.readString(Path.of(path));
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }
}
