"""Gradient fixtures for the tiny models: every parameter (full fine-tuning) and every LoRA A/B (PEFT).

Pinned: torch 2.15.0, transformers 5.24.0, peft 0.21.2, safetensors 0.8.0 (see requirements-models.txt).
Usage (repository root, after models_forward.py):  /opt/refvenv/bin/python tools/reference/models_gradients.py
Reads  Tests/TailorModelsTests/Fixtures/<name>/{model.safetensors, reference.safetensors}
Writes Tests/TailorModelsTests/Fixtures/<name>/gradients.safetensors
       Tests/TailorModelsTests/Fixtures/<name>/lora-init/{adapter_config.json, adapter_model.safetensors}

gradients.safetensors (same batch and labels as reference.safetensors; model.train(), all dropout 0):
    loss F32 []                     full model, f32
    grad.<HF parameter name> F32    d loss / d parameter (tied models: embed_tokens only, head included)
    lora_loss F32 []                base + lora-init adapter (r 4, alpha 8, scaling 2, all-linear)
    lora_grad.<PEFT tensor name>    e.g. lora_grad.base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight
The lora-init adapter is non-zero on purpose (lora_A and lora_B ~ N(0, 0.1²), seeded) so that the gradients of
both A and B are non-trivial and the adapter changes the loss.
"""

from __future__ import annotations

import shutil

import torch
from safetensors.torch import load_file

import models_common as mc


def full_gradients(name: str, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    model = mc.load_model(name)
    model.train()
    model.zero_grad()
    loss = model(**batch).loss
    loss.backward()
    out = {"loss": loss.detach().float().reshape(())}
    for pname, p in model.named_parameters():
        assert p.grad is not None, f"{name}: no gradient for {pname}"
        out[f"grad.{pname}"] = p.grad.detach().float().contiguous()
    return out


def make_lora_init(name: str) -> None:
    """Wrap the base in PEFT, overwrite A and B with seeded N(0, 0.1²) and save_pretrained into lora-init/."""
    from peft import get_peft_model

    model = get_peft_model(mc.load_model(name), mc.lora_config())
    gen = torch.Generator().manual_seed(4242)
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if "lora_A" in pname or "lora_B" in pname:
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
    out = mc.FIXTURES / name / "lora-init"
    if out.exists():
        shutil.rmtree(out)
    # A portable base reference instead of this machine's absolute path.
    model.peft_config["default"].base_model_name_or_path = name
    model.save_pretrained(out)
    (out / "README.md").unlink(missing_ok=True)  # PEFT's generated model card; not part of the adapter format
    for p in out.iterdir():
        p.chmod(0o644)


def lora_gradients(name: str, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    from peft import PeftModel

    model = PeftModel.from_pretrained(mc.load_model(name), mc.FIXTURES / name / "lora-init", is_trainable=True)
    model.train()
    model.zero_grad()
    loss = model(**batch).loss
    loss.backward()
    saved = load_file(mc.FIXTURES / name / "lora-init" / "adapter_model.safetensors")
    out = {"lora_loss": loss.detach().float().reshape(())}
    for pname, p in model.named_parameters():
        if not p.requires_grad:
            continue
        tname = mc.peft_tensor_name(pname)
        assert tname in saved, f"{name}: {tname} not in the saved adapter"
        assert torch.equal(saved[tname], p.detach()), f"{name}: {tname} differs from the saved adapter"
        out[f"lora_grad.{tname}"] = p.grad.detach().float().contiguous()
    assert len(out) - 1 == len(saved), f"{name}: {len(out) - 1} LoRA gradients for {len(saved)} adapter tensors"
    return out


def main() -> None:
    mc.check_versions()
    torch.set_num_threads(2)
    for name in mc.selected(mc.TINY_MODELS):
        ref = load_file(mc.FIXTURES / name / "reference.safetensors")
        batch = {k: ref[k] for k in ("input_ids", "attention_mask", "labels")}
        tensors = full_gradients(name, batch)
        assert abs(tensors["loss"].item() - ref["loss"].item()) < 1e-5, f"{name}: train-mode loss differs"
        make_lora_init(name)
        tensors.update(lora_gradients(name, batch))
        info = {
            "script": "tools/reference/models_gradients.py",
            "model": name,
            "lora": "r=4 lora_alpha=8 lora_dropout=0 target_modules=all-linear, adapter in lora-init/",
        }
        mc.save_fixture(tensors, mc.FIXTURES / name / "gradients.safetensors", info)
        n_lora = sum(k.startswith("lora_grad.") for k in tensors)
        print(
            f"{name}: loss {tensors['loss'].item():.6f} lora_loss {tensors['lora_loss'].item():.6f}, "
            f"{len(tensors) - 2 - n_lora} parameter grads, {n_lora} LoRA grads"
        )


if __name__ == "__main__":
    main()
