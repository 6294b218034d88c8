package io.layerscope.report;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class HtmlTest {

    @Test
    void escapesTheFiveSpecialCharacters() {
        assertEquals("a &lt;b&gt; &amp; &quot;c&quot; &#39;d&#39; \u00fc", Html.escape("a <b> & \"c\" 'd' \u00fc"));
    }

    @Test
    void pathsArePercentEncodedPerSegment() {
        assertEquals("png/layer_analysis_model.layers.0.mlp.down_proj.png",
                Html.path("png/layer_analysis_model.layers.0.mlp.down_proj.png"));
        assertEquals("png/a%20b%23c%3Fd%25e%26f.png", Html.path("png/a b#c?d%e&f.png"));
        assertEquals("png/%C3%BC~x", Html.path("png/\u00fc~x"));   // UTF-8 bytes C3 BC
    }

    @Test
    void idsKeepSafeCharacters() {
        assertEquals("row-model.layers.0.self_attn.q_proj", Html.id("row-", "model.layers.0.self_attn.q_proj"));
        assertEquals("picture-a_b_c_d", Html.id("picture-", "a b/c\"d"));
    }
}
