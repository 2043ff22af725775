#!/usr/bin/env bash
# The main job: fetch SmolLM2-135M-Instruct, build Tailor, inspect the model, answer a question, then fine-tune a LoRA
# adapter on the sample task (dates in words → YYYY-MM-DD, data/dates/, written by tools/data/make_sample_task.py)
# and show the held-out validation loss and answer accuracy before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
model="$(scripts/fetch-smollm2.sh)"
swift build -c release --product tailor
tailor=.build/release/tailor
started=$(date +%s)
$tailor inspect --model "$model"
$tailor generate --model "$model" --prompt "What is the capital of France?" --temperature 0 --max-new-tokens 32
# 50 held-out rows: exact match of the greedy reply, and answer_loss (the validation loss of the reference replies).
held_out=(--data data/dates/eval.jsonl --task qa --max-new-tokens 16)
echo "== before: the base model on the held-out dates"
$tailor eval --model "$model" "${held_out[@]}"
echo "== LoRA fine-tuning on 320 dates (1 epoch, 40 steps)"
rm -rf runs/main-job-lora
$tailor train --model "$model" --data data/dates/train.jsonl --eval-data data/dates/eval.jsonl --out runs/main-job-lora \
  --method lora --lora-r 8 --lora-alpha 16 --epochs 1 --batch-size 8 --learning-rate 1e-3 --lr-scheduler-type cosine \
  --eval-steps 10 --max-length 128
echo "== after: the adapter against the base model on the held-out dates"
$tailor eval --model "$model" --adapter runs/main-job-lora "${held_out[@]}" --compare-base
echo "main job: $(( $(date +%s) - started )) s after the build"
