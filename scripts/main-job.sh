#!/usr/bin/env bash
# The main job: fetch SmolLM2-135M-Instruct, build Tailor, inspect the model and score a sequence with it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
model="$(scripts/fetch-smollm2.sh)"
swift build -c release --product tailor
tailor=.build/release/tailor
$tailor inspect --model "$model"
# "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n" as SmolLM2 token ids.
$tailor score --model "$model" --ids 1,4093,198,1780,314,260,3575,282,4649,47,2,198
