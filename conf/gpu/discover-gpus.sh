#!/usr/bin/env bash
# Spark GPU discovery script: prints the GPUs of this node as Spark's ResourceInformation JSON,
# e.g. {"name": "gpu", "addresses": ["0","1"]}. Needs nvidia-smi on the executor's PATH.
set -euo pipefail
ids=$(nvidia-smi --query-gpu=index --format=csv,noheader 2>/dev/null | tr -d ' ' | paste -sd, -)
if [ -z "$ids" ]; then
  echo '{"name": "gpu", "addresses": []}'
  exit 0
fi
printf '{"name": "gpu", "addresses": ["%s"]}\n' "$(echo "$ids" | sed 's/,/","/g')"
