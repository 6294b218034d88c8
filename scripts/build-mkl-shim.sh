#!/usr/bin/env bash
# Prints the path of the MKL CPU-check shim (src/main/c/mkl_intel_cpu_true.c), building it into
# target/native/ when missing or older than its source, if this machine is one it helps: Linux
# x86-64 with an AMD CPU and a C compiler. Prints nothing otherwise, or when LAYERSCOPE_MKL_SHIM=off.
# submit.sh preloads the printed library (LD_PRELOAD) into the JVM that runs libtorch.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$repo_root/src/main/c/mkl_intel_cpu_true.c"
lib="$repo_root/target/native/libmkl_intel_cpu_true.so"

[ "${LAYERSCOPE_MKL_SHIM:-on}" != off ] || exit 0
[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || exit 0
grep -q -m1 '^vendor_id.*AuthenticAMD' /proc/cpuinfo 2>/dev/null || exit 0
cc="${CC:-cc}"
command -v "$cc" >/dev/null 2>&1 || exit 0
if [ ! -f "$lib" ] || [ "$src" -nt "$lib" ]; then
  mkdir -p "$(dirname "$lib")"
  tmp="$lib.$$.tmp"
  # Renamed into place when complete: a concurrent run never preloads a half-written library.
  if ! "$cc" -shared -fPIC -O2 -o "$tmp" "$src" 2>/dev/null; then
    rm -f "$tmp"
    echo "layerscope: could not build the MKL shim with $cc; matrix products use MKL's generic kernels" >&2
    exit 0
  fi
  mv -f "$tmp" "$lib"
fi
echo "$lib"
