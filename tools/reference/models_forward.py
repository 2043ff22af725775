"""Forward-pass fixtures for the three tiny models: weights, config, logits, loss and KV-cache logits.

Pinned: torch 2.15.0, transformers 5.24.0, safetensors 0.8.0 (see requirements-models.txt).
Usage (repository root):  /opt/refvenv/bin/python tools/reference/models_forward.py
Writes Tests/TailorModelsTests/Fixtures/<name>/{config.json, generation_config.json, model.safetensors,
reference.safetensors} for tiny-llama, tiny-qwen2 and tiny-llama3-rope.

reference.safetensors:
    input_ids I64 [3, 11]        right-padded (row lengths 11, 7, 4; pad id 0)
    attention_mask I64 [3, 11]
    labels I64 [3, 11]           input_ids with -100 at padding and at row 0, positions 0 and 1
    logits F32 [3, 11, V]        eager attention, with attention_mask (padded positions are also computed)
    loss F32 []                  transformers' causal-LM loss (shifted labels, mean over non-ignored targets)
    incremental_logits F32 [11, V]  row 0 fed one token at a time through past_key_values (DynamicCache)
    inv_freq F32 [head_dim / 2]  the model's RoPE inverse frequencies (after llama3 scaling where configured;
                                 LongRoPE: the long set, as the last cached step used; Gemma 3: the global layers')
    local_inv_freq F32 [head_dim / 2]  Gemma 3 only: the sliding layers' set
    short_inv_freq F32 [head_dim / 2]  LongRoPE only: the short set
"""

from __future__ import annotations

import torch

import models_common as mc


def write_model(name: str) -> None:
    out = mc.FIXTURES / name
    out.mkdir(parents=True, exist_ok=True)

    model = mc.build_model(name)
    model.save_pretrained(out)
    # Reload from disk so that every number below comes from the saved weights.
    model = mc.load_model(name)
    model.eval()
    vocab = model.config.vocab_size

    batch = mc.fixed_batch(vocab)
    with torch.no_grad():
        outputs = model(**batch)
        logits = outputs.logits.float()
        loss = outputs.loss.float()

        # Cached path, row 0 (no padding): one token per call, positions taken from the cache length.
        from transformers import DynamicCache

        cache = DynamicCache(config=model.config)
        row = batch["input_ids"][0:1]
        steps = []
        for t in range(mc.SEQ_LEN):
            o = model(input_ids=row[:, t : t + 1], past_key_values=cache, use_cache=True)
            cache = o.past_key_values
            steps.append(o.logits[0, 0].float())
        incremental = torch.stack(steps)

    diff = (incremental - logits[0]).abs().max().item()
    longrope = model.config.rope_parameters.get("rope_type") == "longrope"
    # LongRoPE picks short or long factors per call from its largest position, so one-token steps before
    # original_max_position_embeddings use (and cache keys with) the short factors: the cached path differs from
    # the full forward by design there, and Tailor must reproduce both.
    assert longrope or diff < 1e-4, f"{name}: cached logits differ from the full forward by {diff}"

    tensors = {
        "input_ids": batch["input_ids"],
        "attention_mask": batch["attention_mask"],
        "labels": batch["labels"],
        "logits": logits.contiguous(),
        "loss": loss.reshape(()).contiguous(),
        "incremental_logits": incremental.contiguous(),
    }
    rotary = model.model.rotary_emb
    if hasattr(rotary, "inv_freq"):
        tensors["inv_freq"] = rotary.inv_freq.float().contiguous()
    else:
        # Gemma 3: one set per layer type; inv_freq is the global layers' (full_attention), local_inv_freq the
        # sliding layers'.
        tensors["inv_freq"] = rotary.full_attention_inv_freq.float().contiguous()
        tensors["local_inv_freq"] = rotary.sliding_attention_inv_freq.float().contiguous()
    if longrope:
        # After the last (long) step inv_freq holds the long set; original_inv_freq the short one.
        tensors["short_inv_freq"] = model.model.rotary_emb.original_inv_freq.float().contiguous()
    info = {"script": "tools/reference/models_forward.py", "model": name, "attn_implementation": "eager"}
    mc.save_fixture(tensors, out / "reference.safetensors", info)
    for f in ("config.json", "generation_config.json", "model.safetensors"):
        (out / f).chmod(0o644)
    print(
        f"{name}: loss {loss.item():.6f}, logits std {logits.std().item():.3f}, "
        f"max |cached - full| {diff:.2e}, files {sorted(p.name for p in out.iterdir())}"
    )


def main() -> None:
    mc.check_versions()
    torch.set_num_threads(2)
    for name in mc.selected(mc.TINY_MODELS):
        write_model(name)


if __name__ == "__main__":
    main()
