package io.layerscope.model;

/** The kinds of prunable Linear layer in a LLaMA model, in named_modules() order within a block. */
public enum LayerKind {
    Q_PROJ("q_proj", "attention", "self_attn", Tap.ATTN_IN, "Attention Q Projection"),
    K_PROJ("k_proj", "attention", "self_attn", Tap.ATTN_IN, "Attention K Projection"),
    V_PROJ("v_proj", "attention", "self_attn", Tap.ATTN_IN, "Attention V Projection"),
    O_PROJ("o_proj", "attention", "self_attn", Tap.ATTN_OUT, "Attention Output Projection"),
    GATE_PROJ("gate_proj", "mlp", "mlp", Tap.MLP_IN, "MLP Gate Projection"),
    UP_PROJ("up_proj", "mlp", "mlp", Tap.MLP_IN, "MLP Up Projection"),
    DOWN_PROJ("down_proj", "mlp", "mlp", Tap.MLP_ACT, "MLP Down Projection"),
    LM_HEAD("lm_head", "head", "", Tap.FINAL_NORM, "Language Model Head");

    private final String shortName;
    private final String group;
    private final String parent;
    private final Tap tap;
    private final String heading;

    LayerKind(String shortName, String group, String parent, Tap tap, String heading) {
        this.shortName = shortName;
        this.group = group;
        this.parent = parent;
        this.tap = tap;
        this.heading = heading;
    }

    /** As in the module path: {@code q_proj}, ..., {@code lm_head}. */
    public String shortName() {
        return shortName;
    }

    /** {@code attention}, {@code mlp} or {@code head}. */
    public String group() {
        return group;
    }

    /** The submodule that holds it inside a decoder layer ({@code self_attn} or {@code mlp}). */
    public String parent() {
        return parent;
    }

    public Tap tap() {
        return tap;
    }

    /** The heading the Python listing tool prints for this kind. */
    public String heading() {
        return heading;
    }
}
