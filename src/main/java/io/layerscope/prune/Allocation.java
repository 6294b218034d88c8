package io.layerscope.prune;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.io.Serializable;
import java.util.Locale;

/**
 * How the target sparsity is spread over the decoder blocks: the same everywhere (uniform), or OWL's
 * outlier-weighted allocation ({@link OwlAllocation}) with its hyper-parameters M and lambda.
 *
 * @param kind   uniform or owl
 * @param owlM   OWL's M: an entry is an outlier when its Wanda metric exceeds M x the block's mean
 * @param lambda OWL's lambda: the block sparsities span target +- lambda
 */
public record Allocation(Kind kind, double owlM, double lambda) implements Serializable {
    private static final long serialVersionUID = 1L;
    public static final double DEFAULT_OWL_M = 5;
    public static final double DEFAULT_LAMBDA = 0.08;

    public enum Kind {
        UNIFORM, OWL;

        @JsonValue
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        @JsonCreator
        public static Kind parse(String label) {
            return valueOf(label.toUpperCase(Locale.ROOT));
        }
    }

    public static Allocation uniform() {
        return new Allocation(Kind.UNIFORM, DEFAULT_OWL_M, DEFAULT_LAMBDA);
    }

    public boolean owl() {
        return kind == Kind.OWL;
    }
}
