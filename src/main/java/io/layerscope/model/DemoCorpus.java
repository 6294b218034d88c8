package io.layerscope.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerscope.LayerscopeException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * The demo calibration shard shipped inside the jar: 407 prose documents in C4's format (gzip JSON
 * lines with text, timestamp, url). Its provenance and licence are in {@code data/demo-c4/README.md}.
 */
public final class DemoCorpus {
    /** Classpath location of the shard. */
    public static final String RESOURCE = "/io/layerscope/model/demo/c4-demo.json.gz";
    /** File name of the shard wherever it is copied to. */
    public static final String FILE_NAME = "c4-demo.json.gz";

    private DemoCorpus() {
    }

    /** The gzip bytes of the shard; the caller closes the stream. */
    public static InputStream open() {
        InputStream in = DemoCorpus.class.getResourceAsStream(RESOURCE);
        if (in == null) {
            throw new LayerscopeException("the demo calibration shard " + RESOURCE
                    + " is missing from the class path; rebuild the jar (mvn package)");
        }
        return in;
    }

    /** The {@code text} field of every document, in file order. */
    public static List<String> texts() {
        ObjectMapper json = new ObjectMapper();
        List<String> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(open()), StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (!line.isBlank()) {
                    out.add(json.readTree(line).path("text").asText());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + RESOURCE, e);
        }
        return out;
    }

    /** Copies the shard, byte for byte, to {@code file}. */
    public static void copyTo(Path file) throws IOException {
        try (InputStream in = open()) {
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
