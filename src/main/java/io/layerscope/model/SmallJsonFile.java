package io.layerscope.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerscope.LayerscopeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A model directory's small JSON file (config.json, the safetensors index), read whole. A regular file
 * of a sane size only: a pipe there would block the read for ever, a device never ends, and a file
 * of gigabytes is no such file (and would exceed a Java array).
 */
final class SmallJsonFile {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SmallJsonFile() {
    }

    /**
     * The JSON of {@code file}, at most {@code maxBytes} long; {@code what} names it in errors ("a
     * config.json"). A missing file throws NoSuchFileException for the caller to explain.
     */
    static JsonNode read(Path file, long maxBytes, String what) throws NoSuchFileException {
        if (io.layerscope.FileKinds.existsButNotRegular(file)) {
            throw new LayerscopeException(file + ": " + io.layerscope.FileKinds.NOT_REGULAR + "; " + what + " is a file");
        }
        try {
            long size = Files.size(file);
            if (size > maxBytes) {
                throw new LayerscopeException(file + ": " + size + " bytes, more than " + what + " holds (at most "
                        + (maxBytes >> 20) + " MiB); it is not one");
            }
            return JSON.readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw e;
        } catch (IOException e) {
            throw new LayerscopeException(file + ": not valid JSON (" + io.layerscope.Failures.describe(e) + ")", e);
        }
    }
}
