#!/usr/bin/env bash
# System packages Tailor builds against (Debian): OpenBLAS for matrix products.
set -euo pipefail
if ! pkg-config --exists openblas 2>/dev/null; then
  SUDO=$([ "$(id -u)" -eq 0 ] && echo "" || echo sudo)
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq libopenblas-dev pkg-config >/dev/null
fi
