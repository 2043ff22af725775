"""tiny-gemma3 as GGUF, written by gguf-py the way llama.cpp's convert_hf_to_gguf.py writes a Gemma 3 text model
(see models_gemma2_gguf.py, which does the writing: architecture "gemma3", attn_q_norm/attn_k_norm, every norm
weight stored as 1 + w, rope.freq_base of the global layers with linear scaling, sliding_window, no soft-caps; the
local RoPE base is llama.cpp's default 10000 and is not written; attention.scale because query_pre_attn_scalar 24 is
not head_dim 32).

Made with the versions in requirements-gemma2.txt.
Usage (repository root):
  /opt/refvenv/bin/python tools/reference/models_gemma3_gguf.py
  /opt/refvenv/bin/python tools/reference/models_gemma3_gguf.py --llamacpp FILE.gguf [--hf FOLDER]
"""
import sys

import models_gemma2_gguf as gemma2
import models_qwen3_gguf as qwen3

FIX = gemma2.FIX.parent / "tiny-gemma3"

if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--llamacpp":
        qwen3.FIX = FIX
        qwen3.check_llamacpp(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "--llamacpp" and sys.argv[3] == "--hf":
        gemma2.FIX = FIX
        gemma2.check_llamacpp_against(sys.argv[2], sys.argv[4])
    else:
        gemma2.write(FIX, "gemma3")
