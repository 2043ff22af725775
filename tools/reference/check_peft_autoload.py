"""Developer check: PEFT finds a Tailor adapter's base by the name the adapter records, with nothing else given.

Usage: /opt/refvenv/bin/python tools/reference/check_peft_autoload.py ADAPTER_DIR LOCAL_BASE_DIR TAILOR_MEAN_NLL
ADAPTER_DIR is what `tailor train --method lora` wrote; LOCAL_BASE_DIR is a Hugging Face folder of the same base
(e.g. `tailor merge` of a zero adapter into the GGUF base). The script checks that base_model_name_or_path is a Hub
id (ORG/NAME, not a path of this machine), places LOCAL_BASE_DIR under that name in a scratch folder (as the Hub
cache would provide it), runs offline (HF_HUB_OFFLINE=1) from there, and loads the model with
`AutoPeftModelForCausalLM.from_pretrained(ADAPTER_DIR)` and the tokenizer with `AutoTokenizer.from_pretrained(ADAPTER_DIR)`
(the tokenizer files Tailor writes beside the adapter). The mean NLL over ids 1..16 must equal
`tailor score --model BASE --adapter ADAPTER --ids 1,...,16 --json`'s meanNLL (relative 1e-5).
Made with transformers 5.24.0, peft 0.21.2, torch 2.13.0+cpu.
"""
import json
import os
import re
import sys
import tempfile

os.environ["HF_HUB_OFFLINE"] = "1"

import torch  # noqa: E402
from peft import AutoPeftModelForCausalLM  # noqa: E402
from transformers import AutoTokenizer  # noqa: E402

adapter_dir, base_dir, tailor_nll = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), float(sys.argv[3])
config = json.load(open(os.path.join(adapter_dir, "adapter_config.json")))
name = config["base_model_name_or_path"]
assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*", name), f"not a Hub id: {name!r}"
card = open(os.path.join(adapter_dir, "README.md")).read()
assert f"base_model: {name}" in card, card
with tempfile.TemporaryDirectory() as scratch:
    os.makedirs(os.path.join(scratch, os.path.dirname(name)))
    os.symlink(base_dir, os.path.join(scratch, name))
    os.chdir(scratch)
    model = AutoPeftModelForCausalLM.from_pretrained(adapter_dir, dtype=torch.float32, attn_implementation="eager")
    tokenizer = AutoTokenizer.from_pretrained(adapter_dir)
model.eval()
ids = torch.arange(1, 17).unsqueeze(0)
with torch.no_grad():
    loss = model(ids, labels=ids).loss.item()
diff = abs(loss - tailor_nll) / loss
print(f"AutoPeftModelForCausalLM loaded {adapter_dir} on base '{name}' (tokenizer {type(tokenizer).__name__}, "
      f"{len(tokenizer)} tokens); mean NLL {loss:.7f} vs Tailor {tailor_nll:.7f} (relative difference {diff:.1e})")
sys.exit(0 if diff < 1e-5 else 1)
