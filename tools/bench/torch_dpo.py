"""TRL DPOTrainer step benchmark for SmolLM2 on CPU: a new LoRA adapter (r 8, alpha 16, all-linear, dropout 0) with
the adapter-disabled reference, 4 pairs per step whose chosen and rejected sequences are each 256 tokens (128 prompt
+ 128 completion, random ids) — the shapes of `tailor bench train --objective dpo --method lora`.

Versions used: trl 1.16.0, torch 2.13.0+cpu, transformers 5.24.0, peft 0.21.2 (tools/reference/requirements-dpo.txt).
Usage (tuned PyTorch: the MKL shim and tcmalloc, as tools/bench/side-by-side.sh sets them):
    LD_PRELOAD="/tmp/libmklshim.so /usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4" \
        /opt/refvenv/bin/python tools/bench/torch_dpo.py --gguf PATH [--dtype bf16|f32]
(--dtype bf16: DPOConfig(bf16=True), forward and backward under CPU bfloat16 autocast with f32 weights.)
One step = DPOTrainer's optimizer step: reference forward without gradients (adapter disabled), policy forward and
backward over chosen and rejected, clip_grad_norm_(1.0), AdamW step. Prints one JSON line: seconds_per_step (median
of the steps after --warmup, timed by a TrainerCallback), tokens_per_s (2·B·T / that), peak_rss_mib.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import tempfile
import time

import torch

import torch_common as tc

TOKENIZER = pathlib.Path(__file__).resolve().parents[2] / "Tests" / "TailorDataTests" / "Fixtures" / "smollm2"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gguf", default=tc.DEFAULT_GGUF)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=4, help="pairs per step")
    parser.add_argument("--seq", type=int, default=256, help="tokens of each of chosen and rejected (half prompt)")
    parser.add_argument("--steps", type=int, default=2, help="measured steps")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--dtype", choices=("f32", "bf16"), default="bf16")
    args = parser.parse_args()
    tc.setup_threads(args.threads)

    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoTokenizer, TrainerCallback
    from trl import DPOConfig, DPOTrainer

    model, _ = tc.load_model(args.gguf)
    # The GGUF weights are dequantized to f32 on load; drop the GGUF "quantization" marks the Trainer refuses to train.
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        delattr(model.config, "quantization_config")
    tokenizer = AutoTokenizer.from_pretrained(TOKENIZER)
    gen = torch.Generator().manual_seed(7)
    half, vocab = args.seq // 2, model.config.vocab_size
    steps = args.warmup + args.steps

    def ids(n: int) -> list[int]:
        return torch.randint(3, vocab, (n,), generator=gen).tolist()

    rows = [{"prompt_ids": ids(half), "chosen_ids": ids(args.seq - half), "rejected_ids": ids(args.seq - half)}
            for _ in range(args.batch * steps)]
    times: list[float] = []

    class StepTimer(TrainerCallback):
        def on_step_begin(self, *a, **k):
            self.started = time.perf_counter()

        def on_step_end(self, *a, **k):
            times.append(time.perf_counter() - self.started)

    with tempfile.TemporaryDirectory() as tmp:
        config = DPOConfig(output_dir=tmp, use_cpu=True, save_strategy="no", disable_tqdm=True, report_to="none",
                           per_device_train_batch_size=args.batch, max_steps=steps, learning_rate=1e-4,
                           max_grad_norm=1.0, max_length=args.seq, bf16=args.dtype == "bf16", logging_steps=1,
                           dataloader_num_workers=0, train_sampling_strategy="sequential")
        lora = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules="all-linear", task_type="CAUSAL_LM")
        placeholder = Dataset.from_list([{"prompt": "a", "chosen": "b", "rejected": "c"}])
        trainer = DPOTrainer(model=model, args=config, train_dataset=placeholder, processing_class=tokenizer,
                             peft_config=lora)
        trainer.train_dataset = Dataset.from_list(rows)   # already token ids: the collator reads them as they are
        trainer.add_callback(StepTimer())
        trainer.train()
    measured = times[args.warmup:]
    seconds = tc.median(measured)
    print(json.dumps({"framework": "trl-dpo", "dtype": args.dtype, "batch_pairs": args.batch, "seq": args.seq,
                      "seconds_per_step": seconds, "steps": measured, "tokens_per_s": 2 * args.batch * args.seq / seconds,
                      "peak_rss_mib": tc.peak_rss_mib(), **tc.environment(args.threads)}))


if __name__ == "__main__":
    main()
