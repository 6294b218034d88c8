#!/usr/bin/env bash
# Spark GPU discovery script: prints the GPUs of this node as Spark's ResourceInformation JSON,
# e.g. {"name": "gpu", "addresses": ["0","1"]}. Needs nvidia-smi on the executor's PATH.
# Spark logs a failing script's standard output in the executor's log, so failures are said there.
set -uo pipefail
if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "discover-gpus.sh: nvidia-smi is not on this node's PATH (${PATH-})"
  exit 1
fi
if ! ids=$(nvidia-smi --query-gpu=index --format=csv,noheader 2>&1); then
  echo "discover-gpus.sh: nvidia-smi failed: $ids"
  exit 1
fi
ids=$(printf '%s\n' "$ids" | tr -d ' ' | grep -E '^[0-9]+$' | paste -sd, -)
if [ -z "$ids" ]; then
  echo '{"name": "gpu", "addresses": []}'
  exit 0
fi
printf '{"name": "gpu", "addresses": ["%s"]}\n' "$(echo "$ids" | sed 's/,/","/g')"
