#!/usr/bin/env bash
# System packages Tailor builds against (Debian): OpenBLAS for f32 matrix products, oneDNN for bf16 ones.
set -euo pipefail
if ! pkg-config --exists openblas 2>/dev/null || [ ! -f /usr/include/oneapi/dnnl/dnnl.h ]; then
  SUDO=$([ "$(id -u)" -eq 0 ] && echo "" || echo sudo)
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq libopenblas-dev libdnnl-dev pkg-config >/dev/null
fi
