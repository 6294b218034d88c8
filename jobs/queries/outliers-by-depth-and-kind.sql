-- Share of each layer's Wanda metric entries above 5 x its mean (layers.outlier_ratio_m5, a share
-- between 0 and 1, at OWL's M = 5) by depth and kind: one row per block, one column per kind.
-- Not OWL's own block ratio, which is blocks.owl_outlier_ratio (in percent, over a block's layers).
SELECT block,
       max(CASE WHEN kind = 'q_proj'    THEN round(outlier_ratio_m5, 5) END) AS q_proj,
       max(CASE WHEN kind = 'k_proj'    THEN round(outlier_ratio_m5, 5) END) AS k_proj,
       max(CASE WHEN kind = 'v_proj'    THEN round(outlier_ratio_m5, 5) END) AS v_proj,
       max(CASE WHEN kind = 'o_proj'    THEN round(outlier_ratio_m5, 5) END) AS o_proj,
       max(CASE WHEN kind = 'gate_proj' THEN round(outlier_ratio_m5, 5) END) AS gate_proj,
       max(CASE WHEN kind = 'up_proj'   THEN round(outlier_ratio_m5, 5) END) AS up_proj,
       max(CASE WHEN kind = 'down_proj' THEN round(outlier_ratio_m5, 5) END) AS down_proj
FROM layers
WHERE block >= 0
GROUP BY block
ORDER BY block
