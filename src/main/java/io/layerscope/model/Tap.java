package io.layerscope.model;

/**
 * A point in the forward pass whose tensor is the input of one or more prunable Linear layers.
 * One tap is captured once even when several layers read it (q/k/v share one, gate/up share one).
 */
public enum Tap {
    /** input_layernorm output: input of q_proj, k_proj, v_proj. */
    ATTN_IN,
    /** attention output before o_proj. */
    ATTN_OUT,
    /** post_attention_layernorm output: input of gate_proj, up_proj. */
    MLP_IN,
    /** silu(gate) * up: input of down_proj. */
    MLP_ACT,
    /** final norm output: input of lm_head. */
    FINAL_NORM;

    /** The key of this tap in block {@code block} ({@code -1} for the final norm), e.g. {@code 3/ATTN_IN}. */
    public String key(int block) {
        return this == FINAL_NORM ? "final/FINAL_NORM" : block + "/" + name();
    }

    /** The block a tap key is in, counting the final norm as block {@code blocks} (after the last). */
    public static int block(String key, int blocks) {
        return key.equals(FINAL_NORM.key(-1)) ? blocks : Integer.parseInt(key.substring(0, key.indexOf('/')));
    }
}
