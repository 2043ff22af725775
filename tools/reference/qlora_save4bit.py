"""Saves the tiny models quantized by transformers + bitsandbytes (CPU) as 4-bit folders, so Tailor's tests can load
bitsandbytes' own packed codes and nested scales (bnb's CPU 8-bit quantizer is approximate: quantizing again in Swift
lands ±1 nested code away in a few blocks, which the spec allows for the quantizer but would blur parity tests).

Pinned: transformers 5.24.0, torch 2.15.0, bitsandbytes 0.50.x (requirements-qlora.txt).
Usage (repository root): /opt/refvenv/bin/python tools/reference/qlora_save4bit.py
Writes Tests/TailorModelsTests/Fixtures/qlora/<model>/model-4bit/{config.json,model.safetensors}.
"""
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, BitsAndBytesConfig

ROOT = Path(__file__).resolve().parents[2] / "Tests/TailorModelsTests/Fixtures"

for name in ["tiny-llama", "tiny-qwen2"]:
    config = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                bnb_4bit_compute_dtype=torch.float32)
    model = AutoModelForCausalLM.from_pretrained(ROOT / name, quantization_config=config, dtype=torch.float32,
                                                 device_map="cpu", attn_implementation="eager")
    out = ROOT / "qlora" / name / "model-4bit"
    model.save_pretrained(out)
    for extra in out.iterdir():
        if extra.name not in ("config.json", "model.safetensors"):
            extra.unlink()
    print(name, "->", out, sorted(p.name for p in out.iterdir()))
