"""10-step loss trajectories with transformers' Trainer (full fine-tuning and PEFT LoRA) for tiny-llama and tiny-qwen2.

Pinned: torch 2.15.0, transformers 5.24.0, peft 0.21.2, accelerate 1.15.0 (see requirements-models.txt).
Usage (repository root, after models_forward.py and models_gradients.py):
    /opt/refvenv/bin/python tools/reference/models_trajectory.py
Writes Tests/TailorModelsTests/Fixtures/<name>/train.jsonl   40 pre-tokenized rows {"input_ids": [...]}, lengths 3..16
       Tests/TailorModelsTests/Fixtures/<name>/trajectory.json  settings, per-step batch rows and per-step records
Per optimizer step and method ("full": every parameter, lr 1e-4; "lora": from <name>/lora-init, lr 1e-3):
    loss           the value the Trainer logs (sum over the step's micro-batches of sum-NLL / num_items_in_batch)
    exact_loss     float64 recomputation from the same forward's logits: sum of token NLL over the step's
                   micro-batches / number of trained tokens (shifted labels != -100)
    initial_model_loss  the same quantity for the untrained model (how far training moved the loss)
    grad_norm      pre-clip global L2 norm (as logged), learning_rate (the lr used by this optimizer step)
"""

from __future__ import annotations

import json
import math
import tempfile

import torch

import models_common as mc

TRAJECTORY_MODELS = ("tiny-llama", "tiny-qwen2", "tiny-qwen3", "tiny-phi3", "tiny-gemma2", "tiny-gemma3")
N_ROWS = 40
MIN_LEN, MAX_LEN = 3, 16

SETTINGS = {
    "per_device_train_batch_size": 2,
    "gradient_accumulation_steps": 2,
    "max_steps": 10,
    "lr_scheduler_type": "cosine",
    "warmup_steps": 2,
    "max_grad_norm": 1.0,
    "weight_decay": 0.01,
    "adam_beta1": 0.9,
    "adam_beta2": 0.999,
    "adam_epsilon": 1e-8,
    "optim": "adamw_torch",
    "seed": 0,
    "train_sampling_strategy": "sequential",
    "dataloader_drop_last": False,
    "logging_steps": 1,
    "report_to": "none",
}
LEARNING_RATES = {"full": 1e-4, "lora": 1e-3}


def make_dataset(vocab_size: int) -> list[list[int]]:
    gen = torch.Generator().manual_seed(2024)
    lengths = torch.randint(MIN_LEN, MAX_LEN + 1, (N_ROWS,), generator=gen).tolist()
    return [torch.randint(1, vocab_size, (n,), generator=gen).tolist() for n in lengths]


class RowDataset(torch.utils.data.Dataset):
    def __init__(self, rows: list[list[int]]):
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict:
        return {"row": i, "input_ids": self.rows[i]}


class Recorder:
    """Collects what the Trainer did: micro-batch rows, float64 NLL sums, logged values."""

    def __init__(self) -> None:
        self.micro_rows: list[list[int]] = []
        self.micro_nll: list[tuple[float, int, float, float]] = []  # (sum NLL f64, tokens, trainer loss, num_items)
        self.logs: list[dict] = []


def make_collator(recorder: Recorder):
    def collate(features: list[dict]) -> dict[str, torch.Tensor]:
        recorder.micro_rows.append([f["row"] for f in features])
        width = max(len(f["input_ids"]) for f in features)
        ids = torch.full((len(features), width), mc.PAD_ID, dtype=torch.int64)
        mask = torch.zeros_like(ids)
        for r, f in enumerate(features):
            n = len(f["input_ids"])
            ids[r, :n] = torch.tensor(f["input_ids"])
            mask[r, :n] = 1
        labels = ids.masked_fill(mask == 0, -100)
        return {"input_ids": ids, "attention_mask": mask, "labels": labels}

    return collate


def batch_nll(model, rows: list[list[int]], collate) -> tuple[float, int]:
    """float64 sum of token NLL and trained-token count of one padded micro-batch (no gradient)."""
    inputs = collate([{"row": -1, "input_ids": r} for r in rows])
    with torch.no_grad():
        logits = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]).logits
    logits = logits.double()[:, :-1]
    targets = inputs["labels"][:, 1:]
    keep = targets != -100
    nll = -torch.log_softmax(logits, dim=-1).gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return nll[keep].sum().item(), int(keep.sum())


def make_trainer(model, rows, lr: float, recorder: Recorder, out_dir: str):
    from transformers import Trainer, TrainerCallback, TrainingArguments

    class RecordingTrainer(Trainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            loss, outputs = super().compute_loss(
                model, inputs, return_outputs=True, num_items_in_batch=num_items_in_batch
            )
            logits = outputs.logits.detach().double()[:, :-1]
            targets = inputs["labels"][:, 1:]
            keep = targets != -100
            nll = -torch.log_softmax(logits, dim=-1).gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
            recorder.micro_nll.append(
                (nll[keep].sum().item(), int(keep.sum()), loss.detach().item(), float(num_items_in_batch))
            )
            return (loss, outputs) if return_outputs else loss

    class LogCallback(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                recorder.logs.append(dict(logs, step=state.global_step))

    args = TrainingArguments(
        output_dir=out_dir,
        learning_rate=lr,
        use_cpu=True,
        save_strategy="no",
        disable_tqdm=True,
        dataloader_num_workers=0,
        remove_unused_columns=False,
        **SETTINGS,
    )
    return RecordingTrainer(
        model=model,
        args=args,
        train_dataset=RowDataset(rows),
        data_collator=make_collator(recorder),
        callbacks=[LogCallback()],
    )


def initial_model(name: str, method: str):
    from peft import PeftModel

    model = mc.load_model(name)
    if method == "lora":
        model = PeftModel.from_pretrained(model, mc.FIXTURES / name / "lora-init", is_trainable=True)
    return model


def run(name: str, method: str, rows: list[list[int]]) -> dict:
    # Loss of the untrained model on each step's rows: tells a test how far the 10 updates moved the loss.
    frozen = initial_model(name, method).eval()
    model = initial_model(name, method)
    recorder = Recorder()
    with tempfile.TemporaryDirectory() as tmp:
        trainer = make_trainer(model, rows, LEARNING_RATES[method], recorder, tmp)
        decay = set(trainer.get_decay_parameter_names(trainer.model))
        trainer.train()
        accepts_loss_kwargs = trainer.model_accepts_loss_kwargs
        optimizer = trainer.optimizer.optimizer if hasattr(trainer.optimizer, "optimizer") else trainer.optimizer
        trainable = [n for n, p in trainer.model.named_parameters() if p.requires_grad]

    g = SETTINGS["gradient_accumulation_steps"]
    assert len(recorder.micro_rows) == len(recorder.micro_nll), "collator and loss calls out of step"
    steps = []
    for s, log in enumerate(recorder.logs):
        micro = recorder.micro_nll[s * g : (s + 1) * g]
        nll = sum(m[0] for m in micro)
        tokens = sum(m[1] for m in micro)
        assert all(m[3] == tokens for m in micro), "num_items_in_batch is not the step's token count"
        micro_rows = recorder.micro_rows[s * g : (s + 1) * g]
        before = [batch_nll(frozen, [rows[i] for i in mb], make_collator(Recorder())) for mb in micro_rows]
        assert sum(b[1] for b in before) == tokens
        steps.append(
            {
                "step": log["step"],
                "micro_batches": micro_rows,
                "num_items_in_batch": tokens,
                "loss": log["loss"],
                "exact_loss": nll / tokens,
                "micro_batch_losses": [m[2] for m in micro],
                "initial_model_loss": sum(b[0] for b in before) / tokens,
                "grad_norm": log["grad_norm"],
                "learning_rate": log["learning_rate"],
            }
        )
    return {
        "learning_rate": LEARNING_RATES[method],
        "optimizer": {
            "class": type(optimizer).__name__,
            "defaults": {k: v for k, v in optimizer.defaults.items() if isinstance(v, (int, float, bool, type(None)))},
            "param_groups": [
                {"weight_decay": grp["weight_decay"], "num_tensors": len(grp["params"])} for grp in optimizer.param_groups
            ],
        },
        "model_accepts_loss_kwargs": accepts_loss_kwargs,
        "trainable_parameters": [mc.peft_tensor_name(n) for n in trainable],
        "no_weight_decay": sorted(mc.peft_tensor_name(n) for n in trainable if n not in decay),
        "steps": steps,
    }


def cosine_lr(base: float, s: int, warmup: int, total: int) -> float:
    if s < warmup:
        return base * s / max(1, warmup)
    progress = (s - warmup) / max(1, total - warmup)
    return base * max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))


def main() -> None:
    mc.check_versions()
    torch.set_num_threads(2)
    for name in mc.selected(TRAJECTORY_MODELS):
        rows = make_dataset(256)
        with open(mc.FIXTURES / name / "train.jsonl", "w") as f:
            for r in rows:
                f.write(json.dumps({"input_ids": r}) + "\n")
        methods = {m: run(name, m, rows) for m in ("full", "lora")}
        for m, res in methods.items():
            for st in res["steps"]:
                want = cosine_lr(res["learning_rate"], st["step"] - 1, SETTINGS["warmup_steps"], SETTINGS["max_steps"])
                assert abs(st["learning_rate"] - want) < 1e-12, f"{name}/{m}: lr {st['learning_rate']} != {want}"
        doc = {
            "script": "tools/reference/models_trajectory.py",
            "model": name,
            "versions": mc.library_versions(),
            "dataset": "train.jsonl: one row per line, labels = input_ids (all tokens trained)",
            "settings": SETTINGS,
            "collator": "pad right to the longest row of the micro-batch with pad id 0, attention_mask 0 and label "
            "-100 at padding; position ids 0..T-1",
            "semantics": {
                "sampler": "train_sampling_strategy='sequential' (transformers 5.x TrainingArguments option) -> "
                "torch SequentialSampler; micro-batch k holds rows 2k, 2k+1; optimizer step s (1-based) uses "
                "micro-batches 2s-2, 2s-1",
                "warmup_steps": "transformers 5.x: warmup_steps >= 1 is a step count (int(warmup_steps)), < 1 a "
                "ratio (ceil(T*ratio)); here W = 2, T = max_steps = 10",
                "learning_rate": "lr of optimizer step s (1-based) = base * lambda(s-1); cosine: lambda(i) = i/W for "
                "i < W, else 0.5*(1+cos(pi*(i-W)/(T-W))); scheduler stepped after the optimizer",
                "loss_normalisation": "num_items_in_batch = count of labels[:, 1:] != -100 over the step's 2 "
                "micro-batches; each micro-batch loss = sum token NLL / num_items_in_batch (not divided by "
                "accumulation steps); logged loss = sum of the micro-batch losses (float32), i.e. mean NLL over "
                "every trained token of the step",
                "grad_norm": "torch.nn.utils.clip_grad_norm_ total L2 norm before clipping; coef = max_norm / "
                "(norm + 1e-6) clamped to 1",
                "weight_decay": "decoupled AdamW decay on every trainable tensor except names listed in "
                "no_weight_decay (biases and norms)",
                "dropout": "none (attention_dropout 0, lora_dropout 0)",
            },
            "full": methods["full"],
            "lora": methods["lora"],
        }
        doc["lora"]["adapter"] = "lora-init/ (r 4, lora_alpha 8, scaling 2, all-linear)"
        path = mc.FIXTURES / name / "trajectory.json"
        path.write_text(json.dumps(doc, indent=1) + "\n")
        for m in ("full", "lora"):
            losses = [f"{st['loss']:.4f}" for st in doc[m]["steps"]]
            print(f"{name} {m}: {' '.join(losses)}")


if __name__ == "__main__":
    main()
