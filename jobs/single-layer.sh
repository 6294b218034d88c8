#!/usr/bin/env bash
# One layer's statistics and its 9-panel picture (the forward stops after the layer's block),
# written into the repository's directory; a picture of the same layer from an earlier run is replaced.
#   jobs/single-layer.sh [MODEL] [LAYER]
set -euo pipefail
cd "$(dirname "$0")/.."
exec ./submit.sh layer --model "${1:-demo}" --layer "${2:-model.layers.1.mlp.down_proj}" --overwrite
