package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * docs/run.schema.json describes every field {@link RunRecord} writes, and refuses what it does not
 * describe at the top level. A real run.json is validated against it in SweepJobIT.
 */
class RunSchemaTest {
    private static final String MINIMAL = """
            {"schemaVersion": 1, "tool": "layerscope", "toolVersion": "0.1.0", "runId": "0b7c4f2e-8a41-4d3c-9e2f-5a6b7c8d9e0f",
             "command": "sweep", "createdAt": "2026-12-02T16:38:41.657Z",
             "model": {"spec": "demo", "directory": "/m", "files": [{"name": "model.safetensors", "bytes": 10,
               "sha256": "b0cb72dd7e74c920963d0ebfd69616a877fffa7c81f87f9f18c03b3f1ed8ac2b"}],
               "config": {"hidden_size": 128, "intermediate_size": 344, "num_hidden_layers": 4, "num_attention_heads": 8,
                 "num_key_value_heads": 2, "head_dim": 16, "vocab_size": 512, "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
                 "max_position_embeddings": 2048, "stored_dtype": "BF16"}},
             "options": {"calibration": {"source": "demo", "nsamples": 2, "seqlen": 8, "seed": 0, "dtype": "AUTO", "shards": 0,
                 "batchSize": 1}, "analysis": {"layers": null, "exactLayer": false, "sparsity": 0.5},
               "output": {"out": "/r", "pngDir": null, "overwrite": false, "pngSize": null}, "master": "local[2]"},
             "calibration": {"source": "demo", "files": [], "documents": 3, "windows": [{"sample": 0, "doc": 1, "start": 0}]},
             "computeDtype": "float32", "devices": [], "forwardBlocks": 4, "blockSparsity": [0.5, 0.5, 0.5, 0.5], "versions": {"layerscope": "0.1.0", "spark": "4",
             "java": "17"}, "timingsSeconds": {"total": 1.5}, "layers": ["lm_head"]}
            """;

    @Test
    void aCompleteRecordIsValidAndEveryChangeTheSchemaForbidsIsNamed() throws Exception {
        assertEquals(List.of(), RunSchema.errors(MINIMAL));
        ObjectMapper json = new ObjectMapper();
        ObjectNode unknown = (ObjectNode) json.readTree(MINIMAL);
        unknown.put("surprise", 1);
        assertMentions(RunSchema.errors(unknown.toString()), "surprise");
        ObjectNode noVersion = (ObjectNode) json.readTree(MINIMAL);
        noVersion.remove("schemaVersion");
        assertMentions(RunSchema.errors(noVersion.toString()), "schemaVersion");
        ObjectNode version2 = (ObjectNode) json.readTree(MINIMAL);
        version2.put("schemaVersion", 2);
        assertMentions(RunSchema.errors(version2.toString()), "schemaVersion");
        ObjectNode badHash = (ObjectNode) json.readTree(MINIMAL);
        ((ObjectNode) badHash.at("/model/files/0")).put("sha256", "xyz");
        assertMentions(RunSchema.errors(badHash.toString()), "sha256");
    }

    private static void assertMentions(List<String> errors, String what) {
        assertFalse(errors.isEmpty(), "valid, but should not be: " + what);
        assertTrue(errors.stream().anyMatch(e -> e.contains(what)), what + " not named in " + errors);
    }

    /** Every record component run.json is written from is a property of the schema, and no more at the top level. */
    @Test
    void theSchemaDescribesEveryFieldTheRecordWrites() {
        JsonNode schema = RunSchema.document();
        assertEquals(RunRecord.SCHEMA_VERSION, schema.at("/properties/schemaVersion/const").asInt());
        assertEquals(names(RunRecord.class), properties(schema));
        assertTrue(schema.get("additionalProperties").isBoolean() && !schema.get("additionalProperties").asBoolean());
        // gram is written only by --gram runs, stageOneReused only by runs that read stage one from a cache,
        // executorsLost and taskAttemptsFailed only by runs that lost one or had one fail
        Set<String> required = names(RunRecord.class);
        required.remove("gram");
        required.remove("stageOneReused");
        required.remove("executorsLost");
        required.remove("taskAttemptsFailed");
        assertEquals(required, new TreeSet<>(strings(schema.get("required"))));
        assertDescribed(schema, "/properties/gram", RunRecord.Gram.class);
        assertDescribed(schema, "/properties/stageOneReused", RunRecord.StageOneReused.class);
        assertDescribed(schema, "/properties/model", RunRecord.Model.class);
        assertDescribed(schema, "/properties/model/properties/files/items", RunRecord.WeightFile.class);
        assertDescribed(schema, "/properties/calibration", RunRecord.Calibration.class);
        assertDescribed(schema, "/properties/calibration/properties/windows/items", RunRecord.Window.class);
        assertDescribed(schema, "/properties/options", JobOptions.Recorded.class);
        assertDescribed(schema, "/properties/options/properties/calibration", JobOptions.Calibration.class);
        assertDescribed(schema, "/properties/options/properties/analysis", JobOptions.Analysis.class);
        assertDescribed(schema, "/properties/options/properties/output", JobOptions.Output.class);
    }

    private static void assertDescribed(JsonNode schema, String pointer, Class<? extends Record> type) {
        Set<String> described = properties(schema.at(pointer));
        Set<String> missing = new TreeSet<>(names(type));
        missing.removeAll(described);
        assertEquals(Set.of(), missing, pointer + " does not describe these fields of " + type.getSimpleName());
    }

    private static Set<String> names(Class<? extends Record> type) {
        return new TreeSet<>(Arrays.stream(type.getRecordComponents()).map(RecordComponent::getName).toList());
    }

    private static Set<String> properties(JsonNode object) {
        Set<String> names = new TreeSet<>();
        object.get("properties").fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static List<String> strings(JsonNode array) {
        List<String> s = new ArrayList<>();
        array.forEach(n -> s.add(n.asText()));
        return s;
    }
}
