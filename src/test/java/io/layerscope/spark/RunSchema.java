package io.layerscope.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** docs/run.schema.json, read and applied by an independent JSON Schema validator (networknt, draft 2020-12). */
final class RunSchema {
    static final Path FILE = Path.of(System.getProperty("layerscope.repo", ".")).resolve("docs/run.schema.json");

    private RunSchema() {
    }

    static JsonNode document() {
        try {
            return new ObjectMapper().readTree(FILE.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The validator's messages for {@code json} (empty when it is valid). */
    static List<String> errors(String json) {
        Schema schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(document());
        return schema.validate(json, InputFormat.JSON).stream().map(Object::toString).toList();
    }

    static List<String> errors(Path runJson) throws IOException {
        return errors(Files.readString(runJson));
    }
}
