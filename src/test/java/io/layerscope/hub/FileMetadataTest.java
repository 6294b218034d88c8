package io.layerscope.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.layerscope.fixtures.ReferencePython;
import java.util.List;
import org.junit.jupiter.api.Test;

class FileMetadataTest {

    @Test
    void normalizesEtagsAsHuggingfaceHub() throws Exception {
        List<String> etags = List.of("\"a1b2\"", "W/\"a1b2\"", "a1b2", "\"\"", "W/a1b2");
        // huggingface_hub's _normalize_etag, run by CPython, one result a line
        String python = ReferencePython.run("import sys\nfor e in sys.argv[1:]: print(e.lstrip('W/').strip('\"'))",
                etags.toArray(String[]::new));
        List<String> expected = python.lines().toList();
        assertEquals(etags.size(), expected.size());
        for (int i = 0; i < etags.size(); i++) {
            assertEquals(expected.get(i), FileMetadata.normalizeEtag(etags.get(i)), etags.get(i));
        }
    }
}
