-- The 10 layers where Wanda's per-row mask and the per-row magnitude mask disagree most.
-- ./submit.sh query --results results/demo -f jobs/queries/wanda-vs-magnitude-disagreement.sql
SELECT layer, kind, block,
       round(1 - agree_wanda_magnitude_row, 4)   AS disagree_row,
       round(1 - agree_wanda_magnitude_layer, 4) AS disagree_layer,
       round(1 - agree_wanda_magnitude_2of4, 4)  AS disagree_2of4
FROM layers
ORDER BY disagree_row DESC
LIMIT 10
