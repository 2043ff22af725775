"""PyTorch training-step benchmark for SmolLM2 in f32 on CPU: full fine-tuning or LoRA, batch 4 x 256.

Pinned: torch 2.15.0, transformers 5.24.0, peft 0.21.2, gguf 0.19.0 (tools/reference/requirements-models.txt).
Usage: /opt/refvenv/bin/python tools/bench/torch_train.py --gguf PATH --method full|lora|qlora [--gradient-checkpointing]
  [--dtype f32|bf16]
(--dtype bf16: lora loads the base in bfloat16 with PEFT's f32 adapters (autocast_adapter_dtype, PEFT's default) —
the usual torch_dtype=torch.bfloat16 LoRA set-up; qlora uses bnb_4bit_compute_dtype=bfloat16 with the same; full
keeps f32 master weights and runs forward and backward under torch.autocast("cpu", dtype=torch.bfloat16) —
Tailor's --compute-dtype bf16 counterparts.)
(qlora: the f32 model saved once to a temporary folder and reloaded with bitsandbytes NF4 + double quantization,
compute dtype f32, prepare_model_for_kbit_training, then LoRA as for --method lora; bitsandbytes 0.50 on CPU.)
One step = forward with labels (mean token NLL), backward, clip_grad_norm_(1.0), AdamW step, zero_grad — the work of
one transformers Trainer optimizer step without accumulation. Random token ids, labels = input_ids, no padding.
Prints one JSON line: seconds_per_step (median of the steps after --warmup), tokens_per_s (B*T / that),
peak_rss_mib (ru_maxrss, includes loading), trainable parameter count.
"""

from __future__ import annotations

import argparse
import json

import torch

import torch_common as tc


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gguf", default=tc.DEFAULT_GGUF)
    parser.add_argument("--method", choices=("full", "lora", "qlora"), required=True)
    parser.add_argument("--gradient-checkpointing", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--seq", type=int, default=256)
    parser.add_argument("--steps", type=int, default=4, help="measured steps")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--lora-r", type=int, default=8)
    parser.add_argument("--lora-alpha", type=int, default=16)
    parser.add_argument("--dtype", choices=("f32", "bf16"), default="f32")
    args = parser.parse_args()
    bf16 = args.dtype == "bf16"
    tc.setup_threads(args.threads)

    model, load_s = tc.load_model(args.gguf)
    if args.method == "qlora":
        import tempfile

        from peft import prepare_model_for_kbit_training
        from transformers import AutoModelForCausalLM, BitsAndBytesConfig

        from safetensors.torch import save_file

        # A model read from GGUF refuses save_pretrained: write its f32 tensors and config by hand.
        folder = tempfile.mkdtemp()
        tensors = {k: v.contiguous() for k, v in model.state_dict().items() if k != "lm_head.weight"}
        save_file(tensors, f"{folder}/model.safetensors", metadata={"format": "pt"})
        config = model.config
        if hasattr(config, "quantization_config"):
            delattr(config, "quantization_config")
        config.save_pretrained(folder)
        del model, tensors
        quantization = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                          bnb_4bit_compute_dtype=torch.bfloat16 if bf16 else torch.float32)
        model = AutoModelForCausalLM.from_pretrained(folder, quantization_config=quantization,
                                                     dtype=torch.bfloat16 if bf16 else torch.float32,
                                                     device_map="cpu", attn_implementation="sdpa")
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=args.gradient_checkpointing)
    elif args.method == "lora" and bf16:
        model = model.to(torch.bfloat16)
    if args.gradient_checkpointing:
        # use_reentrant=False: the non-reentrant variant works when the inputs do not require grad (LoRA).
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if args.method in ("lora", "qlora"):
        from peft import LoraConfig, get_peft_model

        cfg = LoraConfig(r=args.lora_r, lora_alpha=args.lora_alpha, lora_dropout=0.0, target_modules="all-linear",
                         task_type="CAUSAL_LM")
        model = get_peft_model(model, cfg)
        lr = 1e-4
    else:
        lr = 1e-5
    model.config.use_cache = False
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)

    gen = torch.Generator().manual_seed(0)
    times = []
    for step in range(args.warmup + args.steps):
        ids = torch.randint(3, model.config.vocab_size, (args.batch, args.seq), generator=gen)

        def one_step():
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16 and args.method == "full"):
                loss = model(input_ids=ids, labels=ids).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)

        seconds = tc.timed(one_step)
        if step >= args.warmup:
            times.append(seconds)

    sps = tc.median(times)
    result = {
        "bench": "torch_train",
        "model": "SmolLM2-135M-Instruct (GGUF Q4_1 dequantized to f32)",
        "method": args.method,
        "dtype": args.dtype,
        "gradient_checkpointing": args.gradient_checkpointing,
        "batch": args.batch,
        "seq": args.seq,
        "lora": {"r": args.lora_r, "alpha": args.lora_alpha, "target_modules": "all-linear"} if args.method in ("lora", "qlora") else None,
        "trainable_params": sum(p.numel() for p in params),
        "optimizer": f"torch.optim.AdamW(lr={lr}, weight_decay=0.01), clip 1.0",
        "attn_implementation": getattr(model.config, "_attn_implementation", None),
        "load_s": round(load_s, 2),
        "step_seconds": [round(t, 3) for t in times],
        "seconds_per_step": round(sps, 3),
        "tokens_per_s": round(args.batch * args.seq / sps, 1),
        "best_seconds_per_step": round(min(times), 3),
        "peak_rss_mib": round(tc.peak_rss_mib(), 1),
    }
    result.update(tc.environment(args.threads))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
