#!/usr/bin/env bash
# System packages Tailor builds against (Debian): OpenBLAS for f32 matrix products, oneDNN for bf16 ones, Open MPI
# for training on several processes or machines (`mpirun -np N tailor train …`).
set -euo pipefail
if ! pkg-config --exists openblas 2>/dev/null || [ ! -f /usr/include/oneapi/dnnl/dnnl.h ] \
   || ! pkg-config --exists ompi-c 2>/dev/null || ! command -v mpirun >/dev/null; then
  SUDO=$([ "$(id -u)" -eq 0 ] && echo "" || echo sudo)
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq libopenblas-dev libdnnl-dev libopenmpi-dev openmpi-bin pkg-config >/dev/null
fi
