package io.layerscope.calibration;

import io.layerscope.LayerscopeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Turns the calibration paths a user gave (files and directories) into the ordered list of files to read. */
final class DocumentFiles {
    /** Name endings read from a directory; an explicitly named file is read whatever its name. */
    private static final List<String> SUFFIXES = List.of(".json.gz", ".jsonl.gz", ".json", ".jsonl");

    private DocumentFiles() {
    }

    /** Files in the order given; a directory contributes its JSON-lines files sorted by name. */
    static List<Path> expand(List<Path> filesOrDirectories) {
        if (filesOrDirectories.isEmpty()) {
            throw new LayerscopeException("no calibration files given; name a C4 shard (*.json.gz), "
                    + "a JSON-lines file or a directory of them");
        }
        List<Path> files = new ArrayList<>();
        for (Path path : filesOrDirectories) {
            if (Files.isDirectory(path)) {
                files.addAll(listDirectory(path));
            } else if (Files.isRegularFile(path)) {
                files.add(path);
            } else if (Files.exists(path)) {
                // /dev/zero, a FIFO, a socket: reading one never ends or yields no JSON lines
                throw new LayerscopeException(path + ": not a regular file (a device, pipe or socket), so not C4 JSON"
                        + " lines; --calibration takes .json.gz/.jsonl files in C4 format or a directory of them");
            } else {
                throw new LayerscopeException(path + ": no such calibration file or directory");
            }
        }
        return files;
    }

    private static List<Path> listDirectory(Path directory) {
        List<Path> files;
        try (Stream<Path> entries = Files.list(directory)) {
            files = entries.filter(Files::isRegularFile)
                    .filter(DocumentFiles::hasDocumentName)
                    .sorted((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()))
                    .toList();
        } catch (IOException e) {
            throw new LayerscopeException(directory + ": cannot list the calibration directory (" + e.getMessage() + ")", e);
        }
        if (files.isEmpty()) {
            throw new LayerscopeException(directory + ": no calibration files in this directory (expected "
                    + "*.json.gz, *.jsonl.gz, *.json or *.jsonl, e.g. C4's c4-train.00000-of-01024.json.gz)");
        }
        return files;
    }

    private static boolean hasDocumentName(Path file) {
        String name = file.getFileName().toString();
        return SUFFIXES.stream().anyMatch(name::endsWith);
    }
}
