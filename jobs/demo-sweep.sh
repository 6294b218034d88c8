#!/usr/bin/env bash
# The full sweep on the embedded demo model and the shipped demo calibration shard (offline).
# Results: results/demo/*.parquet (layers, activation_norms, blocks, calibration and the depth tables), run.json, png/, overview.png, index.html
set -euo pipefail
cd "$(dirname "$0")/.."
exec ./submit.sh sweep --model demo --out "${1:-results/demo}" --overwrite
