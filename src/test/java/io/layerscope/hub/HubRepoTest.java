package io.layerscope.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerscope.LayerscopeException;
import io.layerscope.fixtures.ReferencePython;
import java.util.List;
import org.junit.jupiter.api.Test;

class HubRepoTest {

    @Test
    void namesFoldersAndUrlsAsHuggingfaceHub() {
        HubRepo model = new HubRepo(RepoType.MODEL, "meta-llama/Llama-3.2-1B");
        assertEquals("models--meta-llama--Llama-3.2-1B", model.folderName());
        assertEquals("/meta-llama/Llama-3.2-1B/resolve/main/config.json", model.resolvePath("main", "config.json"));
        assertEquals("/api/models/meta-llama/Llama-3.2-1B/revision/refs%2Fpr%2F3", model.revisionApiPath("refs/pr/3"));
        HubRepo c4 = new HubRepo(RepoType.DATASET, "allenai/c4");
        assertEquals("datasets--allenai--c4", c4.folderName());
        assertEquals("/datasets/allenai/c4/resolve/main/en/c4-train.00000-of-01024.json.gz",
                c4.resolvePath("main", "en/c4-train.00000-of-01024.json.gz"));
        assertEquals("models--gpt2", new HubRepo(RepoType.MODEL, "gpt2").folderName());
    }

    @Test
    void quotesLikePythonsUrllib() throws Exception {
        List<String> samples = List.of("refs/pr/3", "v1.0 beta", "naïve+file#1?.json", "a~b_c-d.e");
        // the samples go to Python as an ASCII JSON array, safe from the locale's argument encoding
        String json = new com.fasterxml.jackson.databind.ObjectMapper()
                .writer().with(com.fasterxml.jackson.core.json.JsonWriteFeature.ESCAPE_NON_ASCII)
                .writeValueAsString(samples);
        String python = ReferencePython.run("import sys, json, urllib.parse as u\nfor s in json.loads(sys.argv[1]):"
                + " print(u.quote(s, safe=''), u.quote(s))", json);
        List<String> expected = python.lines().toList();
        for (int i = 0; i < samples.size(); i++) {
            String s = samples.get(i);
            assertEquals(expected.get(i), HubRepo.quote(s, "") + " " + HubRepo.quote(s, "/"), s);
        }
    }

    @Test
    void refusesIdsTheHubWouldRefuse() {
        for (String bad : new String[] {"a/b/c", "org--x/name", "-org/name", "org/name.", "org/../x", "", "a b/c"}) {
            LayerscopeException e = assertThrows(LayerscopeException.class, () -> new HubRepo(RepoType.MODEL, bad));
            assertEquals("\"" + bad + "\" is not a Hugging Face model repo id: expected org/name such as"
                    + " meta-llama/Llama-3.2-1B (letters, digits, '-', '_', '.', no '--' or '..', at most 96 characters)",
                    e.getMessage());
        }
    }
}
