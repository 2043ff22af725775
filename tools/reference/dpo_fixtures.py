"""Preference-tuning references from TRL 1.16.0 on tiny-llama: DPO losses, DPO trajectories, ORPO and SimPO steps.

Versions used (requirements-dpo.txt): trl 1.16.0, torch 2.13.0+cpu (TAILOR_REF_ANY_VERSION=1), transformers 5.24.0,
peft 0.21.2, accelerate, datasets.
Usage (repository root, after models_forward.py):
    TAILOR_REF_ANY_VERSION=1 /opt/refvenv/bin/python tools/reference/dpo_fixtures.py [NAME.json ...]
(names: only those outputs are rewritten)
Writes Tests/TailorTrainingTests/Fixtures/dpo/
    pairs.jsonl      12 pre-tokenized pairs {"prompt_ids", "chosen_ids", "rejected_ids"} as TRL tokenized them
                     (a one-character-per-token tokenizer over the tiny vocabulary; EOS appended by TRL)
    losses.json      DPOTrainer._compute_loss on pairs 0-3 with fixed reference log-probs, per loss_type
                     (sigmoid, ipo, hinge, robust with label_smoothing 0.1, and sigmoid with zero reference
                     log-probs = the old reference_free): loss, TRL's logged reward metrics, global gradient norm
    dpo_full.json    10 DPOTrainer steps, full fine-tuning, precompute_ref_log_probs
    dpo_lora.json    10 DPOTrainer steps, LoRA from tiny-llama/lora-init (TRL copies it as the frozen "ref" adapter)
    dpo_lora_new.json  10 DPOTrainer steps, a new adapter (peft_config = models_common.lora_config()) whose weights are
                     set to tiny-llama/lora-init before training, so the policy starts away from the reference: the
                     base with the adapter disabled, as TRL does for a peft_config
    dpo_full_frozen.json  10 DPOTrainer steps, full fine-tuning, precompute_ref_log_probs=False (TRL loads a frozen
                     copy of the model as ref_model)
    Tests/TailorDataTests/Fixtures/preference_smollm2.json   DPOTrainer._prepare_dataset with the SmolLM2 tokenizer
                     and chat template on string, conversational and implicit-prompt rows (TRL's tokenize_fn)
    orpo.json, simpo.json  3 steps of ORPOTrainer / CPOTrainer(loss_type="simpo") losses (their own
                     odds_ratio_loss / cpo_loss / get_batch_logps on the concatenated batch) with torch AdamW
"""

from __future__ import annotations

import json
import pathlib
import sys
import tempfile
import types

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import models_common as mc  # noqa: E402

mc.check_versions()

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

OUT = mc.REPO_ROOT / "Tests" / "TailorTrainingTests" / "Fixtures" / "dpo"
MODEL = "tiny-llama"
EOS_ID = 2
N_PAIRS = 12


def char(i: int) -> str:
    return chr(0x100 + i)


def make_tokenizer():
    """One character per token: id i is chr(0x100 + i), so text concatenation is id concatenation."""
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast

    vocab = {char(i): i for i in range(256)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=char(EOS_ID), pad_token=char(mc.PAD_ID))


def make_pairs() -> list[dict]:
    gen = torch.Generator().manual_seed(17)

    def ids(lo: int, hi: int) -> list[int]:
        n = int(torch.randint(lo, hi + 1, (1,), generator=gen))
        return torch.randint(3, 256, (n,), generator=gen).tolist()

    rows = []
    for _ in range(N_PAIRS):
        prompt, chosen, rejected = ids(3, 8), ids(2, 6), ids(2, 6)
        rows.append({"prompt": "".join(map(char, prompt)), "chosen": "".join(map(char, chosen)),
                     "rejected": "".join(map(char, rejected))})
    return rows


SETTINGS = dict(
    per_device_train_batch_size=2,
    gradient_accumulation_steps=1,
    max_steps=10,
    lr_scheduler_type="cosine",
    warmup_steps=2,
    max_grad_norm=1.0,
    weight_decay=0.01,
    seed=0,
    train_sampling_strategy="sequential",
    logging_steps=1,
    report_to="none",
    beta=0.1,
    max_length=1024,
    bf16=False,   # TRL's configs default to bf16 autocast; the references are f32
)
LEARNING_RATES = {"full": 1e-4, "full_frozen": 1e-4, "lora": 1e-3, "lora_new": 1e-3}
METRICS = ["loss", "grad_norm", "learning_rate", "rewards/chosen", "rewards/rejected", "rewards/accuracies",
           "rewards/margins", "logps/chosen", "logps/rejected"]


def dpo_trainer(model, rows, tmp, trainer_kwargs=None, **overrides):
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    settings = dict(SETTINGS, **overrides)
    args = DPOConfig(output_dir=tmp, use_cpu=True, save_strategy="no", disable_tqdm=True, dataloader_num_workers=0,
                     **settings)
    return DPOTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=make_tokenizer(),
                      **(trainer_kwargs or {}))


def tokenized_pairs(trainer) -> list[dict]:
    ds = trainer.train_dataset
    return [{"prompt_ids": r["prompt_ids"], "chosen_ids": r["chosen_ids"], "rejected_ids": r["rejected_ids"]} for r in ds]


def losses(rows) -> dict:
    """_compute_loss on pairs 0-3 with fixed reference log-probs (the initial model's minus an offset)."""
    model = mc.load_model(MODEL)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        trainer = dpo_trainer(model, rows, tmp, precompute_ref_log_probs=False)
        pairs = [trainer.train_dataset[i] for i in range(4)]
        batch = trainer.data_collator(pairs)
        ref_c = torch.tensor([-60.0, -45.5, -70.25, -30.0])
        ref_r = torch.tensor([-50.0, -52.5, -61.0, -41.75])
        cases = [("sigmoid", {}, 0.1), ("ipo", {}, 0.1), ("hinge", {}, 0.5), ("robust", {"label_smoothing": 0.1}, 0.1),
                 ("reference_free", {}, 0.1)]
        for name, extra, beta in cases:
            trainer.beta = beta
            trainer.loss_types = ["sigmoid" if name == "reference_free" else name]
            trainer.loss_weights = [1.0]
            trainer.label_smoothing = extra.get("label_smoothing", 0.0)
            trainer.precompute_ref_logps = True
            inputs = dict(batch)
            zero = name == "reference_free"
            inputs["ref_chosen_logps"] = torch.zeros(4) if zero else ref_c
            inputs["ref_rejected_logps"] = torch.zeros(4) if zero else ref_r
            trainer._metrics["train"].clear()
            model.zero_grad()
            model.train()
            loss = trainer._compute_loss(model, inputs, return_outputs=False)
            loss.backward()
            norm = torch.sqrt(sum((p.grad.double() ** 2).sum() for p in model.parameters() if p.grad is not None))
            metrics = {k: v[-1] for k, v in trainer._metrics["train"].items() if k.startswith(("rewards/", "logps/"))}
            out[name] = {"beta": beta, "label_smoothing": trainer.label_smoothing, "loss": loss.item(),
                         "grad_norm": norm.item(), **metrics}
        out["pairs"] = [0, 1, 2, 3]
        out["ref_chosen_logps"] = ref_c.tolist()
        out["ref_rejected_logps"] = ref_r.tolist()
    return out


def trajectory(rows, method: str) -> dict:
    from peft import PeftModel, set_peft_model_state_dict
    from safetensors.torch import load_file
    from transformers import TrainerCallback

    model = mc.load_model(MODEL)
    if method == "lora":
        model = PeftModel.from_pretrained(model, mc.FIXTURES / MODEL / "lora-init", is_trainable=True)
    extra = {"peft_config": mc.lora_config()} if method == "lora_new" else {}
    steps = []

    class LogCallback(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                record = {k: logs[k] for k in METRICS if k in logs}
                record["step"] = state.global_step
                steps.append(record)

    with tempfile.TemporaryDirectory() as tmp:
        trainer = dpo_trainer(model, rows, tmp, extra, learning_rate=LEARNING_RATES[method],
                              precompute_ref_log_probs=(method == "full"))
        if method == "lora_new":
            assert "ref" not in trainer.model.peft_config   # the reference is the base with the adapter disabled
            state = load_file(mc.FIXTURES / MODEL / "lora-init" / "adapter_model.safetensors")
            result = set_peft_model_state_dict(trainer.model, state)
            assert not result.unexpected_keys, result.unexpected_keys
        trainer.add_callback(LogCallback())
        ref = None
        if method == "full":
            ref = {"chosen": list(trainer.train_dataset["ref_chosen_logps"]),
                   "rejected": list(trainer.train_dataset["ref_rejected_logps"])}
        trainer.train()
    return {"method": method, "learning_rate": LEARNING_RATES[method], "settings": SETTINGS,
            "reference_logps": ref, "steps": steps}


def preference_batch(pairs: list[dict]):
    """Concatenated [chosen..., rejected...] rows as ORPO/CPO build them: input ids, attention mask, labels with
    the prompt masked (-100), right padding."""
    seqs = [p["prompt_ids"] + p["chosen_ids"] for p in pairs] + [p["prompt_ids"] + p["rejected_ids"] for p in pairs]
    prompt_lens = [len(p["prompt_ids"]) for p in pairs] * 2
    width = max(map(len, seqs))
    ids = torch.full((len(seqs), width), mc.PAD_ID, dtype=torch.int64)
    mask = torch.zeros_like(ids)
    labels = torch.full_like(ids, -100)
    for r, (s, n) in enumerate(zip(seqs, prompt_lens)):
        ids[r, : len(s)] = torch.tensor(s)
        mask[r, : len(s)] = 1
        labels[r, n : len(s)] = torch.tensor(s[n:])
    return ids, mask, labels


def orpo_or_simpo(tokenized: list[dict], kind: str) -> dict:
    """3 AdamW steps (lr 1e-3, constant, clip 1.0, no weight decay) on pairs 0-1, 2-3, 4-5 with TRL's own loss code."""
    from trl.experimental.cpo.cpo_trainer import CPOTrainer
    from trl.experimental.orpo.orpo_trainer import ORPOTrainer

    model = mc.load_model(MODEL)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    beta, gamma = (0.1, 0.0) if kind == "orpo" else (2.0, 0.5)
    fake = types.SimpleNamespace(beta=beta, accelerator=types.SimpleNamespace(device="cpu"), alpha=0.0,
                                 loss_type="simpo", simpo_gamma=gamma, label_smoothing=0.0)
    steps = []
    for s in range(3):
        pairs = tokenized[2 * s : 2 * s + 2]
        ids, mask, labels = preference_batch(pairs)
        logits = model(input_ids=ids, attention_mask=mask).logits
        n = len(pairs)
        logps = ORPOTrainer.get_batch_logps(logits, labels, average_log_prob=True)
        chosen, rejected = logps[:n], logps[n:]
        if kind == "orpo":
            # ORPOTrainer.concatenated_forward: the chosen NLL over prompt and completion (attention mask)
            full = torch.where(mask == 1, ids, -100)
            nll = F.cross_entropy(logits[:n, :-1].reshape(-1, logits.shape[-1]), full[:n, 1:].reshape(-1))
            per_pair, rc, rr, _, _ = ORPOTrainer.odds_ratio_loss(fake, chosen, rejected)
            loss = nll - per_pair.mean()
        else:
            per_pair, rc, rr = CPOTrainer.cpo_loss(fake, chosen, rejected)
            loss = per_pair.mean()   # cpo_alpha = 0: SimPO without the NLL term
        opt.zero_grad()
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        steps.append({"step": s + 1, "pairs": [2 * s, 2 * s + 1], "loss": loss.item(), "grad_norm": norm.item(),
                      "rewards/chosen": rc.mean().item(), "rewards/rejected": rr.mean().item(),
                      "rewards/accuracies": (rc > rr).float().mean().item(), "rewards/margins": (rc - rr).mean().item(),
                      "logps/chosen": chosen.mean().item(), "logps/rejected": rejected.mean().item()})
    return {"objective": kind, "beta": beta, "simpo_gamma": gamma, "learning_rate": 1e-3, "steps": steps}


TOKENIZATION_ROWS = [
    {"prompt": "Convert March 5, 2024 to ISO:", "chosen": " 2024-03-05", "rejected": " Sure! It is 2024-03-05."},
    {"prompt": [{"role": "system", "content": "Reply with the date only."}, {"role": "user", "content": "Jan 28, 2004"}],
     "chosen": [{"role": "assistant", "content": "2004-01-28"}],
     "rejected": [{"role": "assistant", "content": "The date is 2004/1/28"}]},
    {"chosen": "Q: 2+2? A: 4", "rejected": "Q: 2+2? A: five"},
    {"chosen": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}],
     "rejected": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Go away."}]},
]


def smollm2_tokenization() -> list[dict]:
    """TRL's own preprocessing (_prepare_dataset: extract_prompt, add_eos, tokenize_fn) with SmolLM2's tokenizer."""
    from datasets import Dataset
    from transformers import AutoTokenizer

    folder = mc.REPO_ROOT / "Tests" / "TailorDataTests" / "Fixtures" / "smollm2"
    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokenizer.chat_template = (folder / "chat_template.jinja").read_text()
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        trainer = dpo_trainer(mc.load_model(MODEL), make_pairs(), tmp)
        trainer._tokenizer = tokenizer   # add_eos reads the trainer's tokenizer
        for row in TOKENIZATION_ROWS:
            ds = trainer._prepare_dataset(Dataset.from_list([row]), tokenizer, trainer.args, "rows")
            r = ds[0]
            out.append({"row": row, "prompt_ids": r["prompt_ids"], "chosen_ids": r["chosen_ids"],
                        "rejected_ids": r["rejected_ids"]})
    return out


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rows = make_pairs()
    with tempfile.TemporaryDirectory() as tmp:
        tokenized = tokenized_pairs(dpo_trainer(mc.load_model(MODEL), rows, tmp))
    with open(OUT / "pairs.jsonl", "w") as f:
        for r in tokenized:
            f.write(json.dumps(r) + "\n")
    header = {"script": "tools/reference/dpo_fixtures.py", "model": MODEL, "versions": mc.library_versions() |
              {"trl": __import__("importlib.metadata").metadata.version("trl")}}
    makers = {"losses.json": lambda: losses(rows), "dpo_full.json": lambda: trajectory(rows, "full"),
              "dpo_full_frozen.json": lambda: trajectory(rows, "full_frozen"),
              "dpo_lora.json": lambda: trajectory(rows, "lora"), "dpo_lora_new.json": lambda: trajectory(rows, "lora_new"),
              "orpo.json": lambda: orpo_or_simpo(tokenized, "orpo"), "simpo.json": lambda: orpo_or_simpo(tokenized, "simpo")}
    only = set(sys.argv[1:])
    outputs = {name: make() for name, make in makers.items() if not only or name in only}
    for name, body in outputs.items():
        with open(OUT / name, "w") as f:
            json.dump(header | body, f, indent=1)
            f.write("\n")
    target = mc.REPO_ROOT / "Tests" / "TailorDataTests" / "Fixtures" / "preference_smollm2.json"
    if only and target.name not in only:
        print("wrote", ", ".join(outputs))
        return
    with open(target, "w") as f:
        json.dump(header | {"rows": smollm2_tokenization()}, f, indent=1)
        f.write("\n")
    print("wrote", ", ".join(outputs), "and", target.name)


if __name__ == "__main__":
    main()
