"""Reference fixtures for DoRA adapters (PEFT use_dora=True) in TailorExport and TailorModels.

Pinned versions: torch 2.15.0, transformers 5.24.0, peft 0.21.2, safetensors 0.8.0, bitsandbytes 0.50.2
(see requirements-export.txt). Run from the repository root with /opt/refvenv/bin/python:

  export_dora.py

Writes Tests/TailorExportTests/Fixtures/tiny-llama-dora/:
  adapter/                  PEFT LoraConfig(r=4, lora_alpha=8, lora_dropout=0.1, use_dora=True, all-linear) on the
                            tiny Llama of tiny-llama/base; lora_B ~ N(0, 0.05²) (seed 1234) and the magnitude vector
                            scaled by (1 + 0.2·N(0,1)) after PEFT's init, so that m ≠ ‖W + s·B·A‖ and B ≠ 0.
  peft_merged.safetensors   PEFT merge_and_unload() of base + adapter (f32).
  reference_logits.json     PeftModel (eval, unmerged: DoRA forward) logits on the three fixed sequences; also
                            the saved tensor names of one module, and when bitsandbytes runs here, the logits of
                            the same adapter on the dequantized 4-bit base qlora-tiny-llama/model-4bit ("qlora"
                            entry; see qlora_logits for why the dequantization comes first).
"""
from __future__ import annotations

import json
import pathlib
import sys

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from models_common import check_versions  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
FIX = REPO / "Tests" / "TailorExportTests" / "Fixtures"
OUT = FIX / "tiny-llama-dora"
SEQUENCES = [[1, 17, 42, 99, 3, 250, 7, 64, 128, 5, 200, 33], [1, 2, 3, 4, 5, 6, 7, 8], [255, 0, 12, 77, 140, 9]]


def main() -> None:
    from peft import LoraConfig, PeftModel, get_peft_model
    from safetensors import safe_open
    from safetensors.torch import save_file
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(FIX / "tiny-llama" / "base", dtype=torch.float32)
    config = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.1, use_dora=True, target_modules="all-linear",
                        task_type="CAUSAL_LM")
    model = get_peft_model(base, config)
    gen = torch.Generator().manual_seed(1234)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "lora_B" in n:  # PEFT initializes B = 0; a trained adapter has B != 0
                p.copy_(torch.randn(p.shape, generator=gen) * 0.05)
        for n, p in model.named_parameters():
            if "lora_magnitude_vector" in n:  # trained magnitudes move away from the init ‖W‖
                p.mul_(1 + 0.2 * torch.randn(p.shape, generator=gen))
    model.eval()
    folder = OUT / "adapter"
    model.save_pretrained(folder)
    with safe_open(str(folder / "adapter_model.safetensors"), "pt") as f:
        names = sorted(k for k in f.keys() if ".layers.0.self_attn.q_proj." in k)
    with torch.no_grad():
        logits = [model(torch.tensor([s])).logits[0].tolist() for s in SEQUENCES]
    result = {"sequences": SEQUENCES, "logits": logits, "saved_names_q_proj_layer0": names}

    qlora = qlora_logits(folder)
    if qlora is not None:
        result["qlora"] = {"sequences": SEQUENCES, "logits": qlora}

    merged = model.merge_and_unload()
    state = {k: v.contiguous() for k, v in merged.state_dict().items()
             if not (merged.config.tie_word_embeddings and k == "lm_head.weight")}
    save_file(state, str(OUT / "peft_merged.safetensors"), metadata={"format": "pt"})
    (OUT / "reference_logits.json").write_text(json.dumps(result))
    print("saved names:", names)
    print("wrote", OUT, "(qlora entry)" if qlora is not None else "(no qlora entry)")


def qlora_logits(adapter: pathlib.Path):
    """The DoRA adapter on the bitsandbytes NF4 base qlora-tiny-llama/model-4bit, unmerged, or None.

    PEFT's DoRA takes the norm of dequantize_module_weight(base) (the dequantized NF4 weight). On CPU,
    bitsandbytes 0.50.2 repacks Linear4bit.weight into its CPU kernel layout on the first forward, after which
    dequantize_4bit of that data is wrong (checked: max error 1.13 on q_proj), so PeftModel on the 4-bit model gives
    garbage on CPU. The reference therefore dequantizes every 4-bit layer before any forward (bitsandbytes'
    dequantize_4bit, exactly what PEFT does on GPU) into an f32 copy of the model and runs PEFT's DoRA on that.
    """
    try:
        import bitsandbytes.functional as bnbf
        from peft import PeftModel
        from transformers import AutoModelForCausalLM
        quantized = AutoModelForCausalLM.from_pretrained(FIX / "qlora-tiny-llama" / "model-4bit", dtype=torch.float32)
        dense = AutoModelForCausalLM.from_pretrained(FIX / "tiny-llama" / "base", dtype=torch.float32)
        with torch.no_grad():
            for name, module in quantized.named_modules():
                if module.__class__.__name__ == "Linear4bit":
                    w = bnbf.dequantize_4bit(module.weight.data, module.weight.quant_state)
                    dense.get_submodule(name).weight.copy_(w.float())
            for name, p in quantized.named_parameters():
                if p.dtype == torch.float32:  # embeddings, norms, lm_head: stored unquantized
                    dense.get_parameter(name).copy_(p)
        model = PeftModel.from_pretrained(dense, adapter)
        model.eval()
        with torch.no_grad():
            return [model(torch.tensor([s])).logits[0].float().tolist() for s in SEQUENCES]
    except Exception as error:  # bitsandbytes unusable on this machine: the test then skips that part
        print("no qlora reference:", error)
        return None


if __name__ == "__main__":
    check_versions()
    torch.manual_seed(0)
    OUT.mkdir(parents=True, exist_ok=True)
    main()
