"""Reference fixtures for TailorOptim: torch AdamW steps with clipping, transformers schedules, warmup and step counts.

Pinned: torch 2.15.0, transformers 5.24.0 (see requirements-optim.txt). The transformers 4.x warmup rule is read from
transformers 4.57.1 installed apart (it cannot share a venv with 5.x):
    /opt/refvenv/bin/pip install --no-deps --target /tmp/tf4 transformers==4.57.1 tokenizers==0.22.1 huggingface_hub==0.36.0
Usage (repository root):
    /opt/refvenv/bin/python tools/reference/optim_torch.py [--tf4 /tmp/tf4]
Writes Tests/TailorOptimTests/Fixtures/
    adamw.json      per case: settings, parameters (name, shape, initial bits, decays) and 5 steps, each with the lr
                    used, raw gradients, pre-clip grad norm, clipped gradients, and parameters / exp_avg / exp_avg_sq
                    after the step, from the single-tensor path and (fused_*) from the fused CPU kernel fed the same
                    clipped gradients; f32 arrays are stored as their IEEE bit patterns (uint32) so nothing is lost
    schedules.json  base lr and, per (schedule, T, W), the lr torch's LambdaLR sets before every step 0...T+2, plus
                    the lambda values
    steps.json      warmup steps from TrainingArguments.get_warmup_steps (5.x and 4.x), total steps from
                    Trainer.set_initial_training_values, and the decay / no-decay split of get_decay_parameter_names

The optimizer runs exactly as the Trainer builds it: torch.optim.AdamW over two groups (decay names with
weight_decay, the rest with 0.0), foreach=False (the single-tensor path), torch.nn.utils.clip_grad_norm_ before each
step, scheduler.step() after each step.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import types
from pathlib import Path

import numpy as np
import torch
import transformers
from torch import nn
from transformers import Trainer, TrainingArguments
from transformers.optimization import (
    get_constant_schedule,
    get_constant_schedule_with_warmup,
    get_cosine_schedule_with_warmup,
    get_linear_schedule_with_warmup,
)

PINNED = {"torch": "2.15.0", "transformers": "5.24.0"}
ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests" / "TailorOptimTests" / "Fixtures"
STEPS = 5


def check_versions() -> None:
    found = {"torch": torch.__version__.split("+")[0], "transformers": transformers.__version__}
    if found != PINNED and os.environ.get("TAILOR_REF_ANY_VERSION") != "1":
        sys.exit(f"expected {PINNED}, found {found} (set TAILOR_REF_ANY_VERSION=1 to run anyway)")


def bits(t: torch.Tensor) -> list[int]:
    """The f32 values of `t` (row-major) as uint32 bit patterns."""
    return t.detach().contiguous().reshape(-1).numpy().astype(np.float32).view(np.uint32).tolist()


def module_tree(names_shapes: list[tuple[str, list[int]]]) -> nn.Module:
    """A module whose named_parameters() are exactly `names_shapes`, nested along the dots."""
    root = nn.Module()
    for name, shape in names_shapes:
        *path, leaf = name.split(".")
        node = root
        for part in path:
            if not hasattr(node, part):
                node.add_module(part, nn.Module())
            node = getattr(node, part)
        node.register_parameter(leaf, nn.Parameter(torch.zeros(shape)))
    return root


def decay_names(names: list[str]) -> list[str]:
    model = module_tree([(n, [1]) for n in names])
    return Trainer.get_decay_parameter_names(None, model)


# Parameter names and shapes of one case: a projection weight, its bias, two norm weights, a LoRA matrix and an
# embedding; sizes are not multiples of 8 so the 8-lane norm reduction has tails.
PARAMETERS = [
    ("model.embed_tokens.weight", [23, 7]),
    ("model.layers.0.input_layernorm.weight", [7]),
    ("model.layers.0.self_attn.q_proj.weight", [6, 7]),
    ("model.layers.0.self_attn.q_proj.bias", [6]),
    ("model.layers.0.self_attn.q_proj.lora_A.default.weight", [3, 7]),
    ("model.norm.weight", [7]),
]

CASES = [
    # name, schedule, T, W, lr, betas, eps, weight decay, max_norm, gradient scales per step
    ("cosine_warmup", "cosine", 8, 2, 1e-3, (0.9, 0.999), 1e-8, 0.01, 1.0, [1.0, 0.05, 2.0, 0.3, 1.5]),
    ("linear_warmup_betas", "linear", 6, 1, 5e-4, (0.8, 0.95), 1e-6, 0.01, 1.0, [0.4, 3.0, 0.02, 1.0, 0.7]),
    ("constant_clip_half", "constant", 5, 0, 2e-3, (0.9, 0.999), 1e-8, 0.1, 0.5, [1.0, 0.01, 0.5, 4.0, 0.2]),
    ("constant_warmup_no_clip", "constant_with_warmup", 10, 3, 3e-3, (0.9, 0.99), 1e-8, 0.0, 0.0, [1.0, 2.0, 0.1, 0.5, 1.0]),
]


def make_scheduler(kind: str, optimizer, total: int, warmup: int):
    if kind == "cosine":
        return get_cosine_schedule_with_warmup(optimizer, warmup, total)
    if kind == "linear":
        return get_linear_schedule_with_warmup(optimizer, warmup, total)
    if kind == "constant":
        return get_constant_schedule(optimizer)
    if kind == "constant_with_warmup":
        return get_constant_schedule_with_warmup(optimizer, warmup)
    raise ValueError(kind)


def adamw_case(index: int, case) -> dict:
    name, kind, total, warmup, lr, betas, eps, wd, max_norm, scales = case
    gen = torch.Generator().manual_seed(1000 + index)
    params = []
    for pname, shape in PARAMETERS:
        if "norm" in pname:
            value = 1 + 0.1 * torch.randn(shape, generator=gen)
        else:
            value = 0.5 * torch.randn(shape, generator=gen)
        params.append(nn.Parameter(value))
    names = [n for n, _ in PARAMETERS]
    decay = set(decay_names(names))
    groups = [
        {"params": [p for n, p in zip(names, params) if n in decay], "weight_decay": wd},
        {"params": [p for n, p in zip(names, params) if n not in decay], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps, foreach=False, fused=False)
    scheduler = make_scheduler(kind, optimizer, total, warmup)
    # The same run through the fused CPU kernel (the Trainer's default optim "adamw_torch_fused"), fed the same
    # clipped gradients.
    fused_params = [nn.Parameter(p.detach().clone()) for p in params]
    fused_groups = [
        {"params": [p for n, p in zip(names, fused_params) if n in decay], "weight_decay": wd},
        {"params": [p for n, p in zip(names, fused_params) if n not in decay], "weight_decay": 0.0},
    ]
    fused = torch.optim.AdamW(fused_groups, lr=lr, betas=betas, eps=eps, fused=True)
    fused_scheduler = make_scheduler(kind, fused, total, warmup)
    record = {
        "name": name, "schedule": kind, "total_steps": total, "warmup_steps": warmup, "learning_rate": lr,
        "beta1": betas[0], "beta2": betas[1], "epsilon": eps, "weight_decay": wd, "max_grad_norm": max_norm,
        "parameters": [
            {"name": n, "shape": list(p.shape), "initial": bits(p), "decays": n in decay}
            for n, p in zip(names, params)
        ],
        "steps": [],
    }
    for step in range(STEPS):
        raw = [scales[step] * torch.randn(p.shape, generator=gen) for p in params]
        for p, g in zip(params, raw):
            p.grad = g.clone()
        used_lr = optimizer.param_groups[0]["lr"]
        if max_norm > 0:
            norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
        else:
            norm = torch.nn.utils.get_total_norm([p.grad for p in params])
        clipped = [p.grad.clone() for p in params]
        optimizer.step()
        scheduler.step()
        for p, g in zip(fused_params, clipped):
            p.grad = g.clone()
        fused.step()
        fused_scheduler.step()
        fused_state = [fused.state[p] for p in fused_params]
        state = [optimizer.state[p] for p in params]
        record["steps"].append({
            "learning_rate": used_lr,
            "grad_norm": bits(norm.reshape(1))[0],
            "gradients": [bits(g) for g in raw],
            "clipped_gradients": [bits(g) for g in clipped],
            "parameters": [bits(p) for p in params],
            "exp_avg": [bits(s["exp_avg"]) for s in state],
            "exp_avg_sq": [bits(s["exp_avg_sq"]) for s in state],
            "step": [float(s["step"]) for s in state],
            "fused_parameters": [bits(p) for p in fused_params],
            "fused_exp_avg": [bits(s["exp_avg"]) for s in fused_state],
            "fused_exp_avg_sq": [bits(s["exp_avg_sq"]) for s in fused_state],
        })
    return record


SCHEDULE_COMBOS = [(10, 0), (10, 3), (100, 8), (100, 3), (7, 7), (5, 9), (1, 0), (20, 1), (37, 4)]


def schedules() -> dict:
    base = 3e-4
    tables = []
    for kind in ("linear", "cosine", "constant", "constant_with_warmup"):
        for total, warmup in SCHEDULE_COMBOS:
            p = nn.Parameter(torch.zeros(1))
            optimizer = torch.optim.AdamW([p], lr=base)
            scheduler = make_scheduler(kind, optimizer, total, warmup)
            lrs = []
            for _ in range(total + 3):
                lrs.append(optimizer.param_groups[0]["lr"])
                optimizer.step()  # p has no gradient: a no-op that keeps torch's "step before scheduler" order
                scheduler.step()
            lambdas = [scheduler.lr_lambdas[0](s) for s in range(total + 3)]
            tables.append({"schedule": kind, "total_steps": total, "warmup_steps": warmup,
                           "learning_rates": lrs, "multipliers": [float(x) for x in lambdas]})
    return {"base_learning_rate": base, "tables": tables}


WARMUP_TOTALS = [100, 37, 1000, 7, 1, 3]
WARMUP_V5 = [0, 0.03, 0.07, 0.1, 0.5, 0.999, 1, 2.0, 5, 10, 2.5]
WARMUP_V4 = [(0, 0.0), (0, 0.03), (0, 0.07), (0, 0.1), (0, 0.5), (5, 0.0), (5, 0.1), (10, 0.5), (1, 0.0)]

V4_PROBE = r"""
import json, sys, tempfile
import transformers
from transformers import TrainingArguments
assert transformers.__version__ == "4.57.1", transformers.__version__
totals, combos = json.loads(sys.argv[1])
out = []
with tempfile.TemporaryDirectory() as d:
    for steps, ratio in combos:
        args = TrainingArguments(output_dir=d, warmup_steps=steps, warmup_ratio=ratio, report_to=[])
        for t in totals:
            out.append({"total_steps": t, "warmup_steps": steps, "warmup_ratio": ratio, "result": args.get_warmup_steps(t)})
print(json.dumps(out))
"""


def warmups(tf4: str) -> dict:
    v5 = []
    with tempfile.TemporaryDirectory() as d:
        for w in WARMUP_V5:
            args = TrainingArguments(output_dir=d, warmup_steps=w, report_to=[])
            for t in WARMUP_TOTALS:
                v5.append({"total_steps": t, "warmup_steps": w, "result": args.get_warmup_steps(t)})
    env = dict(os.environ, PYTHONPATH=tf4)
    probe = subprocess.run([sys.executable, "-c", V4_PROBE, json.dumps([WARMUP_TOTALS, WARMUP_V4])],
                           env=env, capture_output=True, text=True, check=True)
    v4 = json.loads(probe.stdout.strip().splitlines()[-1])
    return {"transformers_5": v5, "transformers_4": v4}


class _TrainerStub:
    """Just what Trainer.set_initial_training_values reads from `self` (one process, no parallelism)."""

    def get_total_train_batch_size(self, args):
        return args.per_device_train_batch_size * args.gradient_accumulation_steps

    def get_sp_size(self):
        return 1

    def num_examples(self, dataloader):
        return len(dataloader)


def total_steps() -> list[dict]:
    out = []
    combos = [(-1, 3.0, 10, 1), (-1, 3.0, 10, 4), (-1, 1.0, 7, 8), (-1, 2.5, 9, 2), (-1, 0.3, 100, 3),
              (-1, 1.0, 1, 1), (50, 3.0, 10, 4), (7, 1.0, 100, 2), (-1, 1.7, 33, 5)]
    with tempfile.TemporaryDirectory() as d:
        for max_steps, epochs, batches, accumulation in combos:
            args = TrainingArguments(output_dir=d, max_steps=max_steps, num_train_epochs=epochs,
                                     gradient_accumulation_steps=accumulation, report_to=[])
            result = Trainer.set_initial_training_values(_TrainerStub(), args, list(range(batches)))
            out.append({"max_steps": max_steps, "epochs": epochs, "batches_per_epoch": batches,
                        "accumulation": accumulation, "result": result[-1]})
    return out


DECAY_NAMES = [
    "model.embed_tokens.weight", "lm_head.weight", "model.norm.weight",
    "model.layers.0.input_layernorm.weight", "model.layers.0.post_attention_layernorm.weight",
    "model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.q_proj.bias",
    "model.layers.0.self_attn.k_proj.bias", "model.layers.0.mlp.down_proj.weight",
    "model.layers.0.self_attn.q_norm.weight", "model.layers.0.self_attn.k_norm.weight",
    "base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight",
    "base_model.model.model.layers.0.self_attn.q_proj.lora_B.default.weight",
    "base_model.model.model.layers.0.mlp.up_proj.lora_magnitude_vector.default.weight",
    "base_model.model.model.norm.weight", "encoder.LayerNorm.weight", "encoder.LayerNorm.bias",
    "model.layers.0.RMSNorm.weight", "model.final_rmsnorm.weight", "model.normalizer.weight",
    "model.enorm.weight", "model.layers.0.attn.biasless.weight", "norm.weight", "prenorm", "x_norm",
    "model.ln_f.weight", "model.pre_norm_scale.weight", "model.layers.0.feedforward_norm",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tf4", default="/tmp/tf4", help="folder holding transformers 4.57.1 (see docstring)")
    args = parser.parse_args()
    check_versions()
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    cases = [adamw_case(i, c) for i, c in enumerate(CASES)]
    (OUT / "adamw.json").write_text(json.dumps({"versions": PINNED, "cases": cases}) + "\n")
    (OUT / "schedules.json").write_text(json.dumps({"versions": PINNED, **schedules()}) + "\n")
    decays = decay_names(DECAY_NAMES)
    steps = {"versions": PINNED, "warmup": warmups(args.tf4), "total_steps": total_steps(),
             "decay": [{"name": n, "decays": n in decays} for n in DECAY_NAMES]}
    (OUT / "steps.json").write_text(json.dumps(steps, indent=1) + "\n")
    for c in cases:
        norms = [struct_f32(s["grad_norm"]) for s in c["steps"]]
        print(f"{c['name']}: lrs {[s['learning_rate'] for s in c['steps']]} grad norms {[f'{n:.4f}' for n in norms]}")
    print(f"{len(steps['warmup']['transformers_5'])} + {len(steps['warmup']['transformers_4'])} warmup rows, "
          f"{len(steps['total_steps'])} total-step rows, {sum(d['decays'] for d in steps['decay'])} of "
          f"{len(DECAY_NAMES)} names decay -> {OUT}")


def struct_f32(bits_value: int) -> float:
    return float(np.array([bits_value], dtype=np.uint32).view(np.float32)[0])


if __name__ == "__main__":
    main()
