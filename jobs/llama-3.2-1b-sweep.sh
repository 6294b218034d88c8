#!/usr/bin/env bash
# Llama-3.2-1B, every prunable layer, Wanda's calibration (128 x 2048 tokens of C4 shard 0, seed 0),
# on a GPU cluster: one GPU per executor, float16 forward, results on a shared file system.
# Needs: the CUDA jar (mvn -Pcuda -DskipTests package), HF_TOKEN with the Llama licence accepted
# (or the model already in the cache), and a cache directory every executor can read.
#   MASTER=spark://head:7077 OUT=/shared/results/llama-3.2-1b CACHE=/shared/llm_weights jobs/llama-3.2-1b-sweep.sh
# Stage one (the forward) is kept in STAGE_ONE_CACHE (default results/stage-one-cache), so
# a rerun with other options (--sparsity 0.6, --png-size, ...) on the same cluster skips it
# (--gram's passes run a forward of their own).
set -euo pipefail
if [ -z "${MASTER:-}" ]; then
  echo "$0: set MASTER to the GPU cluster's master, e.g. MASTER=spark://head:7077 (Spark's local mode gives tasks no GPUs)" >&2
  exit 2
fi
cd "$(dirname "$0")/.."
exec ./submit.sh sweep \
  --model meta-llama/Llama-3.2-1B \
  --cache-dir "${CACHE:-llm_weights}" \
  --calibration c4 --nsamples 128 --seqlen 2048 --seed 0 \
  --dtype auto \
  --out "${OUT:-results/llama-3.2-1b}" \
  --calibration-cache "${STAGE_ONE_CACHE:-results/stage-one-cache}" \
  --master "$MASTER" \
  --properties-file conf/gpu/spark-gpu.conf \
  "$@"
