#!/usr/bin/env bash
# The main job: fetch SmolLM2-135M-Instruct, build Tailor, inspect the model, answer a question, fine-tune a LoRA
# adapter on the sample data and show the evaluation loss before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
model="$(scripts/fetch-smollm2.sh)"
swift build -c release --product tailor
tailor=.build/release/tailor
$tailor inspect --model "$model"
$tailor generate --model "$model" --prompt "What is the capital of France?" --temperature 0 --max-new-tokens 32
echo "== evaluation loss before fine-tuning"
$tailor score --model "$model" --file data/sample/eval.jsonl
rm -rf runs/main-job-lora
$tailor train --model "$model" --data data/sample/train.jsonl --eval-data data/sample/eval.jsonl --out runs/main-job-lora \
  --method lora --epochs 1 --batch-size 4 --learning-rate 2e-4 --lr-scheduler-type cosine --eval-steps 7 --max-length 128
echo "== evaluation loss after fine-tuning (with the adapter)"
$tailor score --model "$model" --adapter runs/main-job-lora --file data/sample/eval.jsonl
