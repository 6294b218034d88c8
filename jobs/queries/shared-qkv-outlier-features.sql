-- Activation-norm outlier features shared by q/k/v of one block: features whose activation norm is
-- above 5x the layer's mean in the (shared) input of q_proj, k_proj and v_proj.
WITH stats AS (
  SELECT layer, avg(act_norm) AS mean_norm FROM activation_norms GROUP BY layer
),
outliers AS (
  SELECT a.layer, l.block, l.kind, a.feature, a.act_norm, a.act_norm / s.mean_norm AS ratio
  FROM activation_norms a JOIN stats s ON a.layer = s.layer JOIN layers l ON a.layer = l.layer
  WHERE a.act_norm > 5 * s.mean_norm AND l.kind IN ('q_proj', 'k_proj', 'v_proj')
)
SELECT block, feature, round(max(ratio), 2) AS ratio_to_mean, count(DISTINCT kind) AS kinds
FROM outliers
GROUP BY block, feature
HAVING count(DISTINCT kind) = 3
ORDER BY block, ratio_to_mean DESC
