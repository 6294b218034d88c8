-- How far Wanda's masks spare the systematic outlier features (LLM.int8's |x| >= 6): for each
-- feature, the share of its column's weights the masks prune, beside the sparsity of the layers
-- reading it. Wanda's activation norm should keep the share well below the sparsity.
-- One results directory at a time (with several --results, add run to the grouping, the join and
-- the columns). layers_sparsity averages the kinds' sparsities unweighted; under OWL the share,
-- weighted by rows, is not strictly comparable with it.
WITH sparsity AS (
  SELECT l.kind, avg(l.sparsity) AS layers_sparsity FROM layers l GROUP BY l.kind
)
SELECT f.tap, f.channel, round(f.block_share, 3) AS block_share, round(f.position_share, 3) AS position_share,
       round(f.wanda_pruned_share, 4) AS wanda_pruned_share,
       round(avg(s.layers_sparsity), 4) AS layers_sparsity
FROM outlier_features f JOIN sparsity s ON array_contains(split(f.kinds, ','), s.kind)
GROUP BY f.tap, f.channel, f.block_share, f.position_share, f.wanda_pruned_share
ORDER BY f.wanda_pruned_share, f.tap, f.channel
LIMIT 20
