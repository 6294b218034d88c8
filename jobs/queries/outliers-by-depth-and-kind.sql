-- OWL outlier ratio (M = 5) by depth and kind: one row per block, one column per kind.
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
