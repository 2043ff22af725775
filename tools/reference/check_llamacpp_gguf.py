"""Developer check: llama.cpp (llama-cpp-python, built from source) loads a GGUF written by `tailor export gguf`
and gives the next-token logits that transformers gives on Tailor's merged f32 folder of the same model+adapter,
and the same greedy continuation as `tailor generate --temperature 0`.

Usage: /opt/refvenv/bin/python tools/reference/check_llamacpp_gguf.py FILE.gguf MERGED_FOLDER "prompt text"
Pinned: llama-cpp-python 0.3.36, transformers 5.24.0, torch 2.15.0.
"""
import sys

import numpy as np
import torch
from llama_cpp import Llama
from transformers import AutoModelForCausalLM, AutoTokenizer

gguf, folder, prompt = sys.argv[1:4]
tok = AutoTokenizer.from_pretrained(folder)
text = tok.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True, tokenize=False)
ids = tok(text, add_special_tokens=False)["input_ids"]
llm = Llama(model_path=gguf, n_ctx=512, logits_all=True, verbose=False)
llm.eval(ids)
ours = np.array(llm.scores[: len(ids)])
model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager")
with torch.no_grad():
    ref = model(torch.tensor([ids])).logits[0].numpy()
diff = np.abs(ours - ref)
print(f"llama.cpp loaded {gguf}: {len(ids)} prompt tokens; max |Δlogit| vs transformers on the merged folder "
      f"{diff.max():.4g} (max |logit| {np.abs(ref).max():.3g}), top-1 agreement {(ours.argmax(-1) == ref.argmax(-1)).mean() * 100:.1f}%")
llm.reset()
out = llm.create_completion(text, max_tokens=24, temperature=0.0, top_k=1)
print("llama.cpp greedy:", repr(out["choices"][0]["text"]))
