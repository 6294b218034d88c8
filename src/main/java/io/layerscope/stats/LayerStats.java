package io.layerscope.stats;

import java.io.Serializable;
import java.util.Arrays;

/**
 * The statistics of one Linear layer, as {@link LayerStatistics#compute} makes them; each part
 * feeds the {@code layers} table columns named in its javadoc. Arrays are copied in and out: the
 * record is immutable.
 *
 * @param outFeatures      rows of W
 * @param inFeatures       columns of W (input features)
 * @param weightAbs        |W| over out*in entries ({@code weight_abs_*})
 * @param actNorm          activation norm sqrt(scaler_row) over in features ({@code act_norm_*})
 * @param wanda            Wanda metric |W| * sqrt(scaler_row) over out*in entries ({@code wanda_*})
 * @param ria              RIA metric (|W|/column sum + |W|/row sum) * sqrt(act_norm) over out*in entries
 *                         ({@code ria_*})
 * @param masks            mask agreements at 50% sparsity ({@code agree_wanda_magnitude_*})
 * @param outliers         outlier ratios of the Wanda metric ({@code outlier_ratio_m3/m5/m7})
 * @param topActFeatures   up to 16 input features with the largest activation norm, largest first,
 *                         ties by lower index ({@code top_act_features})
 * @param activationNorms  sqrt(scaler_row[j]) for every input feature j, in float32 as torch
 *                         computes it (the {@code activation_norms} table)
 * @param errors           the output error of each mask ({@code recon_err_*}), or null without the
 *                         Gram matrix (--gram)
 */
public record LayerStats(int outFeatures, int inFeatures, Distribution weightAbs, Distribution actNorm,
                         Distribution wanda, Distribution ria, MaskAgreement masks, OutlierRatios outliers,
                         int[] topActFeatures, float[] activationNorms, ReconstructionErrors errors) implements Serializable {
    private static final long serialVersionUID = 1L;

    public LayerStats {
        topActFeatures = topActFeatures.clone();
        activationNorms = activationNorms.clone();
    }

    @Override
    public int[] topActFeatures() {
        return topActFeatures.clone();
    }

    @Override
    public float[] activationNorms() {
        return activationNorms.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LayerStats s && outFeatures == s.outFeatures && inFeatures == s.inFeatures
                && weightAbs.equals(s.weightAbs) && actNorm.equals(s.actNorm) && wanda.equals(s.wanda) && ria.equals(s.ria)
                && masks.equals(s.masks) && outliers.equals(s.outliers)
                && Arrays.equals(topActFeatures, s.topActFeatures) && Arrays.equals(activationNorms, s.activationNorms)
                && java.util.Objects.equals(errors, s.errors);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * (31 * outFeatures + inFeatures) + wanda.hashCode()) + Arrays.hashCode(activationNorms);
    }

    @Override
    public String toString() {
        return "LayerStats[" + outFeatures + "x" + inFeatures + ", weightAbs=" + weightAbs.summary()
                + ", actNorm=" + actNorm.summary() + ", wanda=" + wanda.summary() + ", ria=" + ria.summary() + ", masks=" + masks
                + ", outliers=" + outliers + ", topActFeatures=" + Arrays.toString(topActFeatures) + "]";
    }
}
