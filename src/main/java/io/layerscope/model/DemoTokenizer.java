package io.layerscope.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes a byte-level BPE tokenizer in Hugging Face's {@code tokenizer.json} format, built like
 * Llama 3's: Llama 3's split pattern then a byte-level pre-tokenizer, a BPE model, a byte-level
 * decoder, and a post-processor that prepends {@code <|begin_of_text|>}. Token ids: the 256 byte
 * symbols in byte order, then one token per merge, then {@code <|begin_of_text|>} and
 * {@code <|end_of_text|>}. Also writes {@code tokenizer_config.json} and {@code special_tokens_map.json}.
 */
public final class DemoTokenizer {
    public static final String BOS = "<|begin_of_text|>";
    public static final String EOS = "<|end_of_text|>";

    private static final ObjectMapper JSON = new ObjectMapper();

    private DemoTokenizer() {
    }

    /** Vocabulary size with the specials: 256 bytes + merges + 2. */
    public static int vocabSize(int merges) {
        return 256 + merges + 2;
    }

    public static int bosId(int merges) {
        return 256 + merges;
    }

    public static int eosId(int merges) {
        return 256 + merges + 1;
    }

    /** Writes tokenizer.json, tokenizer_config.json and special_tokens_map.json into {@code dir}. */
    public static void write(Path dir, List<String[]> merges, int modelMaxLength) throws IOException {
        ObjectMapper pretty = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        Files.writeString(dir.resolve("tokenizer.json"), pretty.writeValueAsString(tokenizerJson(merges)) + "\n");
        Files.writeString(dir.resolve("tokenizer_config.json"),
                pretty.writeValueAsString(tokenizerConfig(merges.size(), modelMaxLength)) + "\n");
        ObjectNode map = JSON.createObjectNode().put("bos_token", BOS).put("eos_token", EOS);
        Files.writeString(dir.resolve("special_tokens_map.json"), pretty.writeValueAsString(map) + "\n");
    }

    public static ObjectNode tokenizerJson(List<String[]> merges) {
        int bos = bosId(merges.size());
        ObjectNode t = JSON.createObjectNode();
        t.put("version", "1.0");
        t.putNull("truncation");
        t.putNull("padding");
        ArrayNode added = t.putArray("added_tokens");
        addedToken(added.addObject(), bos, BOS);
        addedToken(added.addObject(), bos + 1, EOS);
        t.putNull("normalizer");

        ObjectNode pre = t.putObject("pre_tokenizer").put("type", "Sequence");
        ArrayNode preSteps = pre.putArray("pretokenizers");
        ObjectNode split = preSteps.addObject().put("type", "Split");
        split.putObject("pattern").put("Regex", BpeTrainer.LLAMA3_SPLIT_PATTERN);
        split.put("behavior", "Isolated").put("invert", false);
        preSteps.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true)
                .put("use_regex", false);

        ObjectNode post = t.putObject("post_processor").put("type", "Sequence");
        ArrayNode postSteps = post.putArray("processors");
        postSteps.addObject().put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", false)
                .put("use_regex", true);
        ObjectNode template = postSteps.addObject().put("type", "TemplateProcessing");
        ArrayNode single = template.putArray("single");
        special(single.addObject(), 0);
        sequence(single.addObject(), "A", 0);
        ArrayNode pair = template.putArray("pair");
        special(pair.addObject(), 0);
        sequence(pair.addObject(), "A", 0);
        special(pair.addObject(), 1);
        sequence(pair.addObject(), "B", 1);
        ObjectNode bosSpec = template.putObject("special_tokens").putObject(BOS).put("id", BOS);
        bosSpec.putArray("ids").add(bos);
        bosSpec.putArray("tokens").add(BOS);

        t.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", true)
                .put("use_regex", true);

        ObjectNode model = t.putObject("model").put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false).put("byte_fallback", false).put("ignore_merges", true);
        ObjectNode vocab = model.putObject("vocab");
        for (int b = 0; b < 256; b++) {
            vocab.put(String.valueOf(ByteLevelAlphabet.symbol(b)), b);
        }
        ArrayNode mergeList = model.putArray("merges");
        for (int i = 0; i < merges.size(); i++) {
            String[] m = merges.get(i);
            vocab.put(m[0] + m[1], 256 + i);
            mergeList.add(m[0] + " " + m[1]);
        }
        return t;
    }

    private static ObjectNode tokenizerConfig(int merges, int modelMaxLength) {
        ObjectNode c = JSON.createObjectNode();
        ObjectNode decoder = c.putObject("added_tokens_decoder");
        decoderEntry(decoder.putObject(String.valueOf(bosId(merges))), BOS);
        decoderEntry(decoder.putObject(String.valueOf(eosId(merges))), EOS);
        c.put("bos_token", BOS);
        c.put("clean_up_tokenization_spaces", true);
        c.put("eos_token", EOS);
        c.putArray("model_input_names").add("input_ids").add("attention_mask");
        c.put("model_max_length", modelMaxLength);
        c.put("tokenizer_class", "PreTrainedTokenizerFast");
        return c;
    }

    private static void addedToken(ObjectNode n, int id, String content) {
        n.put("id", id).put("content", content).put("single_word", false).put("lstrip", false).put("rstrip", false)
                .put("normalized", false).put("special", true);
    }

    private static void decoderEntry(ObjectNode n, String content) {
        n.put("content", content).put("lstrip", false).put("normalized", false).put("rstrip", false)
                .put("single_word", false).put("special", true);
    }

    private static void special(ObjectNode n, int typeId) {
        n.putObject("SpecialToken").put("id", BOS).put("type_id", typeId);
    }

    private static void sequence(ObjectNode n, String id, int typeId) {
        n.putObject("Sequence").put("id", id).put("type_id", typeId);
    }
}
