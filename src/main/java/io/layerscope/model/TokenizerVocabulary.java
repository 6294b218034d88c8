package io.layerscope.model;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import io.layerscope.LayerscopeException;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The largest token id a {@code tokenizer.json} can produce: of its model's vocab (an object of
 * token to id, or for Unigram a list whose index is the id) and of its added_tokens. Read as a
 * stream (a Llama 3 tokenizer.json is 9 MB, mostly merges, which are skipped), on the driver,
 * so a tokenizer that does not belong to the model is refused before Spark starts instead of
 * inside the calibration stage.
 *
 * <pre>{@code
 * TokenizerVocabulary.check(dir.resolve("tokenizer.json"), config.vocabSize(), "config.json");
 * }</pre>
 */
public final class TokenizerVocabulary {
    // Field names here are the vocabulary's tokens, each met once: Jackson's default canonicalizing
    // (and interning) of names, which pays off for the few keys ordinary JSON repeats, cost more than
    // the parse itself on the driver's critical path.
    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE).build())
            .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
            .build();

    /** The token with the largest id, and where it was found. */
    public record LargestId(String token, long id, String where) {
    }

    private TokenizerVocabulary() {
    }

    /**
     * Refuses a tokenizer with a token id of {@code vocabSize} or more, naming the token, and one
     * that lists no token at all (it would encode every document to nothing, which calibration
     * would then report as documents too short).
     */
    public static void check(Path tokenizerJson, int vocabSize, String configName) {
        LargestId largest = largestId(tokenizerJson);
        if (largest == null) {
            throw notTokenizer(tokenizerJson, "lists no token (its model.vocab and added_tokens are empty or absent)");
        }
        if (largest.id() >= vocabSize) {
            throw new LayerscopeException(tokenizerJson + ": token \"" + largest.token() + "\" has id " + largest.id()
                    + " (in " + largest.where() + "), but the model's vocab_size is " + vocabSize + " (" + configName
                    + "), so its ids run 0.." + (vocabSize - 1) + "; this tokenizer does not belong to the model: use the"
                    + " model's own tokenizer.json");
        }
    }

    /** The largest id, or null when the file lists no token. */
    public static LargestId largestId(Path tokenizerJson) {
        LargestId[] best = {null};
        if (io.layerscope.FileKinds.existsButNotRegular(tokenizerJson)) {
            throw notTokenizer(tokenizerJson, io.layerscope.FileKinds.NOT_REGULAR);
        }
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(tokenizerJson);
                JsonParser p = JSON.createParser(in)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw notTokenizer(tokenizerJson, "not a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                if (field.equals("model") && value == JsonToken.START_OBJECT) {
                    readModel(p, best);
                } else if (field.equals("added_tokens") && value == JsonToken.START_ARRAY) {
                    readAdded(p, best);
                } else {
                    p.skipChildren();
                }
            }
        } catch (NoSuchFileException e) {
            throw new LayerscopeException(tokenizerJson + ": tokenizer file not found; a Hugging Face model directory"
                    + " must hold tokenizer.json (the fast-tokenizer file next to config.json)");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw notTokenizer(tokenizerJson, "not valid JSON (" + e.getOriginalMessage() + ")");
        } catch (IOException e) {
            throw new LayerscopeException(tokenizerJson + ": cannot read the tokenizer (" + e.getMessage() + ")", e);
        }
        return best[0];
    }

    private static void readModel(JsonParser p, LargestId[] best) throws IOException {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            if (field.equals("vocab") && value == JsonToken.START_OBJECT) {
                // BPE, WordPiece, WordLevel: {"token": id, ...}
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String token = p.currentName();
                    if (p.nextToken().isNumeric()) {
                        offer(best, token, p.getLongValue(), "model.vocab");
                    } else {
                        p.skipChildren();
                    }
                }
            } else if (field.equals("vocab") && value == JsonToken.START_ARRAY) {
                // Unigram: [["piece", score], ...], the id is the index
                long index = 0;
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    String token = "#" + index;
                    if (p.currentToken() == JsonToken.START_ARRAY) {
                        JsonToken t = p.nextToken();
                        if (t == JsonToken.VALUE_STRING) {
                            token = p.getText();
                        }
                        while (t != JsonToken.END_ARRAY) {
                            p.skipChildren();
                            t = p.nextToken();
                        }
                    } else {
                        p.skipChildren();
                    }
                    offer(best, token, index++, "model.vocab");
                }
            } else {
                p.skipChildren();
            }
        }
    }

    private static void readAdded(JsonParser p, LargestId[] best) throws IOException {
        while (p.nextToken() == JsonToken.START_OBJECT) {
            String content = null;
            Long id = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                if (field.equals("id") && value.isNumeric()) {
                    id = p.getLongValue();
                } else if (field.equals("content") && value == JsonToken.VALUE_STRING) {
                    content = p.getText();
                } else {
                    p.skipChildren();
                }
            }
            if (id != null) {
                offer(best, content == null ? "#" + id : content, id, "added_tokens");
            }
        }
        if (p.currentToken() != JsonToken.END_ARRAY) {
            p.skipChildren();
        }
    }

    private static void offer(LargestId[] best, String token, long id, String where) {
        if (best[0] == null || id > best[0].id()) {
            best[0] = new LargestId(token, id, where);
        }
    }

    private static LayerscopeException notTokenizer(Path file, String why) {
        return new LayerscopeException(file + ": " + why + "; tokenizer.json must be a Hugging Face fast-tokenizer file");
    }
}
