package io.layerscope.spark;

import io.layerscope.LayerscopeException;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.PrunableLayer;
import io.layerscope.model.SafetensorsFile;
import io.layerscope.model.TensorInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Checks the scaler rows of stage one on the driver before stage two, and when one is not finite
 * says why: a NaN or Inf in a weight the forward pass used (named, with its position), an
 * overflow of float16 compute (then, and only then, --dtype float32 is the advice), or else a
 * float32 forward pass that overflowed with finite weights. The weights are scanned only when a
 * row is bad, so a healthy run pays nothing.
 */
final class ActivationCheck {
    /** Floats widened per read while scanning a tensor. */
    private static final int CHUNK = 1 << 20;

    private ActivationCheck() {
    }

    /** What {@link #check(Checkpoint, List, Map, List, String)} calls stage one's pass. */
    static final String CALIBRATION_PASS = "the calibration forward pass";

    static void check(Checkpoint ckpt, List<PrunableLayer> layers, Map<String, float[]> scalerRows,
                      List<String> computeTypes) {
        check(ckpt, layers, scalerRows, computeTypes, CALIBRATION_PASS);
    }

    /** @param pass what made the rows, for the message: {@link #CALIBRATION_PASS}, or sequential mode's pass */
    static void check(Checkpoint ckpt, List<PrunableLayer> layers, Map<String, float[]> scalerRows,
                      List<String> computeTypes, String pass) {
        for (Map.Entry<String, float[]> e : scalerRows.entrySet()) {
            float[] row = e.getValue();
            for (int j = 0; j < row.length; j++) {
                if (!(row[j] >= 0 && row[j] <= Float.MAX_VALUE)) {
                    throw explain(ckpt, layers, e.getKey(), j, row[j], computeTypes, pass);
                }
            }
        }
    }

    private static LayerscopeException explain(Checkpoint ckpt, List<PrunableLayer> layers, String tap, int j, float value,
                                               List<String> computeTypes, String pass) {
        String layer = layers.stream().filter(l -> l.tapKey().equals(tap)).map(PrunableLayer::name).findFirst().orElse(tap);
        String what = "scaler_row[" + j + "] of the input of " + layer + " is " + value;
        for (String name : tensorsUpTo(ckpt, tap)) {
            SafetensorsFile f = ckpt.fileOf(name);
            String at = firstNonFinite(f, f.tensor(name));
            if (at != null) {
                return new LayerscopeException(f.path() + ": tensor " + name + " holds " + at + ", the first non-finite"
                        + " weight " + pass + " used, so " + what + ". The checkpoint file is damaged or"
                        + " was saved from a diverged model: download it again or check its source.");
            }
        }
        if (computeTypes.contains("float16")) {
            return new LayerscopeException(what + ": " + pass + " overflowed float16 (every weight it used"
                    + " is finite); rerun it with --dtype float32.");
        }
        return new LayerscopeException(what + ": " + pass + " in " + String.join(", ", computeTypes)
                + " overflowed although every weight it used is finite; weights this large do not come from a trained"
                + " model: check the checkpoint's source.");
    }

    /** The tensors the forward pass uses up to {@code tap}, in the order it uses them. */
    private static List<String> tensorsUpTo(Checkpoint ckpt, String tap) {
        int blocks = ckpt.config().numHiddenLayers();
        boolean last = tap.startsWith("final/");
        int upTo = last ? blocks - 1 : Integer.parseInt(tap.substring(0, tap.indexOf('/')));
        List<String> names = new ArrayList<>();
        names.add("model.embed_tokens.weight");
        for (int i = 0; i <= upTo; i++) {
            String p = "model.layers." + i + ".";
            for (String t : List.of("input_layernorm", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                    "self_attn.o_proj", "post_attention_layernorm", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")) {
                names.add(p + t + ".weight");
            }
        }
        if (last) {
            names.add("model.norm.weight");
        }
        return names;
    }

    /** "NaN at [i, j]" for the first non-finite element, or null; read in chunks of rows. */
    static String firstNonFinite(SafetensorsFile f, TensorInfo t) {
        long[] shape = t.shape();
        if (shape.length == 0 || t.numel() == 0) {
            return null;
        }
        long rows = shape[0];
        long rowLength = t.numel() / rows;
        int rowsPerRead = (int) Math.max(1, Math.min(rows, CHUNK / Math.max(1, rowLength)));
        for (long r = 0; r < rows; r += rowsPerRead) {
            int n = (int) Math.min(rowsPerRead, rows - r);
            float[] v = f.readRows(t.name(), r, n);
            for (int k = 0; k < v.length; k++) {
                if (!Float.isFinite(v[k])) {
                    long flat = r * rowLength + k;
                    String index = shape.length == 1 ? "[" + flat + "]"
                            : "[" + flat / rowLength + ", " + flat % rowLength + "]";
                    return v[k] + " at " + index;
                }
            }
        }
        return null;
    }
}
