"""Developer check: PEFT loads an adapter written by `tailor train` and computes the same logits as Tailor.

Usage: /opt/refvenv/bin/python tools/reference/check_peft_adapter.py BASE_MODEL_DIR ADAPTER_DIR TAILOR_MEAN_NLL
where TAILOR_MEAN_NLL is what `tailor score --model BASE --adapter ADAPTER --ids 1,2,...,16 --json` prints as meanNLL.
Pinned: transformers 5.24.0, peft 0.21.2, torch 2.15.0.
"""
import sys

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM

base_dir, adapter_dir, tailor_nll = sys.argv[1], sys.argv[2], float(sys.argv[3])
model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32, attn_implementation="eager")
model = PeftModel.from_pretrained(model, adapter_dir)
model.eval()
ids = torch.arange(1, 17).unsqueeze(0)
with torch.no_grad():
    loss = model(ids, labels=ids).loss.item()
diff = abs(loss - tailor_nll) / loss
print(f"PEFT loaded {adapter_dir}: {sum(p.numel() for n, p in model.named_parameters() if 'lora_' in n)} LoRA parameters; "
      f"mean NLL {loss:.7f} vs Tailor {tailor_nll:.7f} (relative difference {diff:.1e})")
sys.exit(0 if diff < 1e-5 else 1)
