package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.LayerscopeException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The outputs of a sweep are moved into place each on its own: one refused does not take the others. */
class OutputCommitTest {
    @TempDir
    Path tmp;

    @Test
    void theResultsGoInPlaceWhenThePrunedModelCannotAndTheErrorSaysBoth() throws Exception {
        Path results = tmp.resolve("results");
        Path model = tmp.resolve("pruned");
        ByteArrayOutputStream said = new ByteArrayOutputStream();
        try (ResultsDirectory out = ResultsDirectory.create(results);
             ResultsDirectory pruned = ResultsDirectory.create(ResultsDirectory.Kind.PRUNED_CHECKPOINT, model, false, Map.of())) {
            Files.writeString(out.staging().resolve("run.json"), "new");
            Files.writeString(pruned.staging().resolve("model.safetensors"), "weights");
            Files.createDirectories(model);   // made by someone else while the job ran
            String m = assertThrows(LayerscopeException.class,
                    () -> OutputCommit.commit(out, null, pruned, null, null, new PrintStream(said, true))).getMessage();
            assertTrue(m.startsWith("pruned checkpoint " + model + " appeared while the job ran; the pruned model is in "
                    + tmp.resolve("pruned.new-")), m);
            assertTrue(m.endsWith(" instead; the results are in " + results), m);
        }
        assertEquals("new", Files.readString(results.resolve("run.json")));
        // writing --out's tables failed: the pruned model, complete, is put in place all the same
        Path model2 = tmp.resolve("pruned2");
        try (ResultsDirectory pruned = ResultsDirectory.create(ResultsDirectory.Kind.PRUNED_CHECKPOINT, model2, false, Map.of())) {
            Files.writeString(pruned.staging().resolve("model.safetensors"), "weights");
            String m = assertThrows(LayerscopeException.class, () -> OutputCommit.commit(null, null, pruned, null,
                    new LayerscopeException("cannot write the results to /r (No space left on device); nothing was kept;"
                            + " free space there or choose another --out"), new PrintStream(said, true))).getMessage();
            assertEquals("cannot write the results to /r (No space left on device); free space there or choose another"
                    + " --out; the pruned model is in " + model2, m);
        }
        assertEquals("weights", Files.readString(model2.resolve("model.safetensors")));
        try (var s = Files.list(tmp)) {
            Path aside = s.filter(p -> p.getFileName().toString().startsWith("pruned.new-")).findFirst().orElseThrow();
            assertEquals("weights", Files.readString(aside.resolve("model.safetensors")));
        }
    }

    /** The report's files, written into the staging directory, fail as the tables do: named by --out, not the staging. */
    @Test
    void aFullDiskUnderTheReportNamesTheResultsDirectory() {
        Path target = tmp.resolve("r");
        RuntimeException e = new java.io.UncheckedIOException("cannot write the report into " + tmp.resolve(".r.staging-1"),
                new java.io.IOException("No space left on device"));
        assertEquals("cannot write the results to " + target + " (No space left on device); nothing was kept; free space"
                + " there or choose another --out", OutputCommit.writeFailure(target, e).getMessage());
    }
}
