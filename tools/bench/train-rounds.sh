#!/usr/bin/env bash
# Training speed, interleaved rounds: Tailor (its default products: bf16, or f32 without bf16 dot products) against tuned PyTorch + PEFT (MKL shim + tcmalloc,
# tools/bench/tuned-torch-env.sh) in f32 and in bf16, LoRA rank 16 on all linear layers and full fine-tuning, and
# QLoRA + checkpointing against PyTorch + bitsandbytes, batch 4 x 256, with the matrix-product ceiling measured in every round. Appends JSON lines to OUT and prints medians,
# ratios and achieved fractions of the bf16 ceiling (tools/bench/summarize_rounds.py).
# Usage: tools/bench/train-rounds.sh MODEL.gguf [ROUNDS=2] [OUT=bench-train.jsonl] [PYTHON=/opt/refvenv/bin/python]
set -euo pipefail
cd "$(dirname "$0")/../.."
model="$1"; rounds="${2:-2}"; out="${3:-bench-train.jsonl}"; python="${4:-/opt/refvenv/bin/python}"
tailor=.build/release/tailor
# Tailor's products: bf16 where the CPU has bf16 dot products (its default), else f32; TAILOR_DTYPE overrides.
dtype_default=$(grep -qw avx512_bf16 /proc/cpuinfo && echo bf16 || echo f32)
tailor_dtype="${TAILOR_DTYPE:-$dtype_default}"
# Without bf16 dot products PyTorch's bf16 mode (and its bf16 matmul ceiling) is emulated and many times slower than
# f32, so only f32 is timed there; TORCH_DTYPES overrides.
if [ "$dtype_default" = bf16 ]; then torch_dtypes="${TORCH_DTYPES:-f32 bf16}"; ceiling_flags=""; else
  torch_dtypes="${TORCH_DTYPES:-f32}"; ceiling_flags="--f32-only"; fi
preload="$(tools/bench/tuned-torch-env.sh)"
record() { printf '{"round": %d, "side": "%s", "what": "%s", "result": %s}\n' "$1" "$2" "$3" "$(tr -d '\n')" >> "$out"; }
# QLoRA with checkpointing (NF4, double quantization) against PyTorch + PEFT + bitsandbytes in Tailor's compute dtype,
# the two sides in alternating order from round to round.
qlora_tailor() {
  $tailor bench train --model "$model" --method qlora --gradient-checkpointing true --lora-rank 16 \
    --compute-dtype "$tailor_dtype" --json | record "$1" tailor train-qlora-ckpt
}
qlora_torch() {
  LD_PRELOAD="$preload" $python tools/bench/torch_train.py --gguf "$model" --method qlora --gradient-checkpointing \
    --lora-r 16 --lora-alpha 32 --dtype "$tailor_dtype" | tail -1 | record "$1" "torch-bnb-$tailor_dtype" train-qlora-ckpt
}
for round in $(seq 1 "$rounds"); do
  LD_PRELOAD="$preload" $python tools/bench/ceiling.py $ceiling_flags | tail -1 | record "$round" ceiling matmul
  for method in lora full; do
    $tailor bench train --model "$model" --method $method --lora-rank 16 --compute-dtype "$tailor_dtype" --json \
      | record "$round" tailor "train-$method"
    for dtype in $torch_dtypes; do
      LD_PRELOAD="$preload" $python tools/bench/torch_train.py --gguf "$model" --method $method --lora-r 16 --lora-alpha 32 \
        --dtype $dtype | tail -1 | record "$round" "torch-tuned-$dtype" "train-$method"
    done
  done
  if [ $((round % 2)) = 1 ]; then qlora_tailor "$round"; qlora_torch "$round"; else qlora_torch "$round"; qlora_tailor "$round"; fi
done
$python tools/bench/summarize_rounds.py "$out"
