#!/usr/bin/env bash
# Prints the LD_PRELOAD value of the tuned PyTorch peer: the MKL shim (mkl_shim.c, built here with gcc) and Debian's
# libtcmalloc-minimal4. Usage: LD_PRELOAD="$(tools/bench/tuned-torch-env.sh)" python tools/bench/torch_train.py …
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
shim="${TMPDIR:-/tmp}/tailor-mkl-shim.so"
[ -f "$shim" ] || gcc -O2 -shared -fPIC -o "$shim" "$here/mkl_shim.c"
tcmalloc=$(ls /usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4 2>/dev/null || true)
[ -n "$tcmalloc" ] || { echo "install libtcmalloc-minimal4 (apt-get install libtcmalloc-minimal4)" >&2; exit 1; }
echo "$shim:$tcmalloc"
