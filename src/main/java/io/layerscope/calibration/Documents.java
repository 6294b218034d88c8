package io.layerscope.calibration;

import java.nio.file.Path;
import java.util.List;

/**
 * Calibration documents by index, in file order across files: what Wanda's {@code get_c4} indexes
 * with {@code traindata[i]['text']}. C4 shards are read once as a stream; the texts go to a spill
 * file on disk (deleted on {@link #close()} and at JVM exit) and are read back by offset, so a
 * 356k-document shard (800 MB of text) costs megabytes of heap, not gigabytes.
 *
 * <p>Inputs: C4 shards as published ({@code *.json.gz}: gzip, one JSON object per line with
 * {@code text}, {@code timestamp}, {@code url}), the same uncompressed ({@code .json},
 * {@code .jsonl}), a directory of such files (taken in name order) or a list of files and
 * directories. Blank lines are skipped. Every other line must be a JSON object with a {@code text}
 * string; anything else fails with a {@link io.layerscope.LayerscopeException} naming the file
 * and line.
 *
 * <pre>{@code
 * try (Documents docs = Documents.open(Path.of("c4-train.00000-of-01024.json.gz"))) {
 *     String first = docs.text(0);
 *     int count = docs.size();
 * }
 * }</pre>
 */
public interface Documents extends AutoCloseable {

    /** Number of documents. */
    int size();

    /** The text of document {@code index} (0-based, in file order). */
    String text(int index);

    /** Releases the spill file, if any. Texts cannot be read afterwards. */
    @Override
    void close();

    /** Reads a C4 shard, a JSON-lines file or a directory of them, spilling texts to the temp directory. */
    static Documents open(Path fileOrDirectory) {
        return open(List.of(fileOrDirectory));
    }

    /** Reads files and directories in the order given (each directory's files in name order). */
    static Documents open(List<Path> filesOrDirectories) {
        return open(filesOrDirectories, Path.of(System.getProperty("java.io.tmpdir")));
    }

    /** As {@link #open(List)}, with the spill file in {@code spillDirectory}. */
    static Documents open(List<Path> filesOrDirectories, Path spillDirectory) {
        return SpilledDocuments.read(DocumentFiles.expand(filesOrDirectories), spillDirectory);
    }

    /** Documents held in memory, for small inputs and tests. */
    static Documents of(List<String> texts) {
        return new InMemoryDocuments(texts);
    }
}
