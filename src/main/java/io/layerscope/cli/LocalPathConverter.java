package io.layerscope.cli;

import io.layerscope.model.HfCache;
import java.net.URI;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * Reads every path option (--out, --cache-dir, --save-pruned, --results, ...) as a path of the local
 * file system. A leading {@code ~} is the home directory, as --cache-dir reads it. A {@code file:} URI
 * becomes its path. Any other URI is refused: java.nio would take
 * {@code hdfs://nn/results} for the relative path {@code hdfs:/nn/results} and write into a directory
 * named {@code hdfs:} where the command runs, while the user looks for the results on HDFS.
 */
final class LocalPathConverter implements CommandLine.ITypeConverter<Path> {
    private static final Pattern SCHEME = Pattern.compile("^([A-Za-z][A-Za-z0-9+.-]*):/");

    /**
     * For the options that take a path or a name (--model: a directory or a repo id; --calibration: a
     * file or c4, c4:N, demo): a URI or a leading ~ is read as the path options read it, anything else
     * is left as it is (no repo id or source name has either).
     */
    static final class PathOrName implements CommandLine.ITypeConverter<String> {
        /** A web address, in any case. */
        private static final Pattern WEB = Pattern.compile("^(?i)https?://");
        /** A model's page on the Hub, pasted from the browser. */
        private static final Pattern HUB_PAGE = Pattern.compile("^https?://(?:www\\.)?huggingface\\.co/([^/?#]+/[^/?#]+)");

        @Override
        public String convert(String value) {
            if (WEB.matcher(value).find()) {
                Matcher page = HUB_PAGE.matcher(value);
                throw new CommandLine.TypeConversionException("'" + value + "' is a web address; layerscope downloads"
                        + " from the Hugging Face Hub by repo id (" + (page.find() ? "here --model " + page.group(1)
                        : "org/name, e.g. --model meta-llama/Llama-3.2-1B; --calibration c4") + ") and otherwise reads"
                        + " local paths");
            }
            boolean pathLike = value.equals("~") || value.startsWith("~/") || SCHEME.matcher(value).find();
            return pathLike ? new LocalPathConverter().convert(value).toString() : value;
        }
    }

    @Override
    public Path convert(String value) {
        if (value.equals("~") || value.startsWith("~/")) {
            // the shell leaves ~ as it is after "--out=", which would make a directory named ~ here
            return HfCache.expand(value, HfCache.home(System.getenv()));
        }
        Matcher m = SCHEME.matcher(value);
        if (!m.find()) {
            return Path.of(value);
        }
        if (m.group(1).equalsIgnoreCase("file")) {
            try {
                return Path.of(URI.create(value));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a file: URI of this machine ("
                        + e.getMessage() + "); give the path itself, e.g. /data/results");
            }
        }
        throw new CommandLine.TypeConversionException("'" + value + "' is a URI, and layerscope reads and writes"
                + " paths of the local file system (on a cluster, storage mounted at the same path on every node,"
                + " such as NFS): give such a path (hdfs dfs -put and -get copy a directory between one and "
                + m.group(1) + ":)");
    }
}
