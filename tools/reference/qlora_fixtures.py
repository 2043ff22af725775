"""QLoRA reference fixtures for tiny-llama and tiny-qwen2: a bitsandbytes NF4 (double-quant) base on CPU + PEFT LoRA.

Pinned: bitsandbytes 0.50.2, torch 2.15.0, transformers 5.24.0, peft 0.21.2, accelerate 1.15.0, safetensors 0.8.0
(see requirements-qlora.txt). Checked at start; TAILOR_REF_ANY_VERSION=1 overrides.
Imports models_common, models_trajectory and quant_bnb (exact-nearest helpers) from this folder.
Usage (repository root, after models_forward.py, models_gradients.py and models_trajectory.py):
    /opt/refvenv/bin/python tools/reference/qlora_fixtures.py            (about a minute on 2 cores)
    /opt/refvenv/bin/python tools/reference/qlora_fixtures.py --check    (regenerate, exit 1 if any file changed)
Reads  Tests/TailorModelsTests/Fixtures/<model>/{config.json, model.safetensors, reference.safetensors,
       lora-init/, train.jsonl}
Writes Tests/TailorModelsTests/Fixtures/qlora/<model>/reference.safetensors, trajectory.json and
       Tests/TailorModelsTests/Fixtures/qlora/manifest.json

The base: from_pretrained(<model>, BitsAndBytesConfig(load_in_4bit, nf4, double quant, compute dtype f32),
device_map="cpu", eager attention, dtype f32). Every decoder linear becomes bnb Linear4bit (blocksize 64, nested
blocks of 256); embeddings, norms and lm_head stay f32 (tied Qwen2: the head is embed_tokens).
bnb's CPU inference shortcut is switched off on every Linear4bit (support_avx512bf16_for_cpu = False): on a CPU
with AVX512-BF16, eval-mode forwards without grad would otherwise repack the weight and compute in bf16, so the
fixture would depend on the machine. With it off, every 4-bit linear is y = x @ dequantize_4bit(W).T + b in f32
(checked bit-exactly below), in eval and train mode alike.

reference.safetensors (batch = input_ids / attention_mask / labels of <model>/reference.safetensors):
    input_ids, attention_mask, labels I64 [3, 11]   copied unchanged
    logits F32 [3, 11, 256], loss F32 []           4-bit base, no adapter
    dequant.<module>.weight F32 [out, in]          bnb.functional.dequantize_4bit of each Linear4bit
    quant.<module>.weight U8 [out*in/2]            packed 4-bit codes (high nibble = even element)
    quant.<module>.absmax U8 [blocks]              8-bit codes of the block scales (double quant)
    quant.<module>.nested_absmax F32 [ceil(blocks/256)], quant.<module>.offset F32 [1]
    lora_loss F32 []                               after prepare_model_for_kbit_training(use_gradient_checkpointing
                                                   =False) + PeftModel.from_pretrained(lora-init, is_trainable=True),
                                                   train mode
    lora_grad.<PEFT tensor name> F32               every lora_A / lora_B (names as in <model>/gradients.safetensors)
    metadata "reference": JSON (quantized modules, what prepare_model_for_kbit_training changed, checks, versions,
                                quantizer_audit: where bnb's double quant departs from the exact rules, per module)
trajectory.json: the layout of <model>/trajectory.json with one run under "lora" (QLoRA from lora-init, lr 1e-3,
the same Trainer settings, dataset <model>/train.jsonl and collator as models_trajectory.py), plus "quantization",
"prepare_model_for_kbit_training", "forced" (what the Trainer / PEFT / bnb set) and "dequantized_f32_base_control"
(max differences to the same run on the f32 model holding the dequantized weights; 0.0 with the pinned versions).
"""

from __future__ import annotations

import os

# bnb wraps some pure-torch kernels in torch.compile; run them eagerly (as quant_bnb.py does).
os.environ.setdefault("TORCH_COMPILE_DISABLE", "1")

import argparse
import json
import sys
import tempfile

import torch
from safetensors.torch import load_file

import models_common as mc
import models_trajectory as mt

PINNED_BNB = "0.50.2"
PINNED_ACCELERATE = "1.15.0"
QLORA_MODELS = ("tiny-llama", "tiny-qwen2")
OUT = mc.FIXTURES / "qlora"
SCRIPT = "tools/reference/qlora_fixtures.py"
DECODER_LINEARS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def versions() -> dict[str, str]:
    import importlib.metadata

    v = mc.library_versions()
    v["bitsandbytes"] = importlib.metadata.version("bitsandbytes")
    return dict(sorted(v.items()))


def check_bnb_version() -> None:
    v = versions()
    bad = [(n, v[n], want) for n, want in (("bitsandbytes", PINNED_BNB), ("accelerate", PINNED_ACCELERATE))
           if v[n] != want]
    if bad and not os.environ.get("TAILOR_REF_ANY_VERSION"):
        sys.exit("version mismatch: " + ", ".join(f"{n} {have} (want {want})" for n, have, want in bad))


def quantization_config():
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.float32,
    )


def linear4bit_modules(model) -> dict[str, torch.nn.Module]:
    import bitsandbytes as bnb

    return {n: m for n, m in model.named_modules() if isinstance(m, bnb.nn.Linear4bit)}


def load_4bit(name: str):
    """The tiny model quantized on load (NF4, double quant, f32 compute) with the f32 path forced on every linear."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(
        mc.FIXTURES / name,
        quantization_config=quantization_config(),
        device_map="cpu",
        attn_implementation="eager",
        dtype=torch.float32,
    )
    for mod in linear4bit_modules(model).values():
        mod.support_avx512bf16_for_cpu = False
    return model


def strip_peft(name: str) -> str:
    """HF module name of a (possibly PEFT-wrapped) Linear4bit: drop 'base_model.model.' and '.base_layer'."""
    return name.removeprefix("base_model.model.").removesuffix(".base_layer")


def check_quantized_modules(name: str, model) -> dict:
    """Every decoder linear is Linear4bit; embeddings, norms and lm_head are untouched f32."""
    quantized = sorted(linear4bit_modules(model))
    layers = model.config.num_hidden_layers
    want = sorted(f"model.layers.{i}.{'self_attn' if p.endswith(('q_proj', 'k_proj', 'v_proj', 'o_proj')) else 'mlp'}"
                  f".{p}" for i in range(layers) for p in DECODER_LINEARS)
    assert quantized == want, f"{name}: quantized modules {quantized} != {want}"
    not_quantized = {}
    for n, p in model.named_parameters():
        if p.__class__.__name__ != "Params4bit":
            assert p.dtype == torch.float32, f"{name}: {n} is {p.dtype}"
            not_quantized[n] = str(p.dtype).removeprefix("torch.")
    assert "lm_head" not in quantized and type(model.lm_head) is torch.nn.Linear
    states = {}
    for n, mod in linear4bit_modules(model).items():
        st = mod.weight.quant_state
        assert st.quant_type == "nf4" and st.blocksize == 64 and st.nested and st.state2.blocksize == 256
        assert st.dtype == torch.float32 and mod.compute_dtype == torch.float32
        assert st.shape.numel() % 64 == 0, f"{name}: {n} has a partial block"
        states[n] = {"shape": list(st.shape), "blocks": st.absmax.numel(), "nested_blocks": st.state2.absmax.numel()}
    return {
        "quantized_modules": quantized,
        "quant_state": {"quant_type": "nf4", "blocksize": 64, "nested": True, "nested_blocksize": 256,
                        "dtype": "float32", "compute_dtype": "float32"},
        "shapes": states,
        "not_quantized_parameters": not_quantized,
        "tied_word_embeddings": bool(model.config.tie_word_embeddings),
    }


def quant_tensors(model) -> dict[str, torch.Tensor]:
    """dequant.* (f32, via bnb.functional.dequantize_4bit) and the raw quant state quant.* of every Linear4bit."""
    import bitsandbytes.functional as F
    from bitsandbytes.backends.default.ops import _dequantize_4bit_compute

    out = {}
    for n, mod in linear4bit_modules(model).items():
        w, st = mod.weight, mod.weight.quant_state
        deq = F.dequantize_4bit(w.data, st).float().contiguous()
        # bnb's pure-torch reference kernel must agree with the CPU C kernel here (rows of 64/128, blocks of 64).
        absmax = F.dequantize_blockwise(st.absmax, st.state2) + st.offset
        ref = _dequantize_4bit_compute(w.data.reshape(-1), absmax.float(), F.get_4bit_type("nf4", device="cpu"),
                                       st.blocksize, st.shape, torch.float32)
        assert torch.equal(deq.view(torch.int32), ref.view(torch.int32)), f"{n}: bnb CPU and torch dequant differ"
        out[f"dequant.{n}.weight"] = deq
        out[f"quant.{n}.weight"] = w.data.reshape(-1).contiguous()
        out[f"quant.{n}.absmax"] = st.absmax.contiguous()
        out[f"quant.{n}.nested_absmax"] = st.state2.absmax.float().contiguous()
        out[f"quant.{n}.offset"] = st.offset.reshape(1).float().contiguous()
    return out


def quantizer_audit(model, f32_weights: dict[str, torch.Tensor]) -> tuple[dict, dict[str, torch.Tensor]]:
    """Where bnb's CPU quantization of these weights departs from the exact rules Tailor's quantizer follows.

    4-bit codes and block absmax come from bnb's pure-torch kernel (requantizing model.safetensors must reproduce
    quant.*.weight exactly). The double-quant step differs in two places: bnb's offset is torch's f32 mean of the
    absmax (Tailor: f64 sum, rounded once), and bnb's CPU quantize_blockwise picks 8-bit codes through a look-up
    table (Tailor: exact nearest, ties low). Per module: does the f64 offset equal bnb's, how many 8-bit codes differ
    from exact-nearest (given bnb's offset), and the max |dequant| difference of the exact rules (f64 offset and
    exact codes) against bnb's dequant.* — 0 where the two agree.
    """
    import bitsandbytes.functional as F
    from quant_bnb import exact_nearest_blockwise, offset_f64

    dmap = F.create_dynamic_map(signed=True).float()
    nf4 = F.get_4bit_type("nf4", device="cpu")
    audit, exact_rule_weights = {}, {}
    for n, mod in linear4bit_modules(model).items():
        st = mod.weight.quant_state
        x = f32_weights[f"{n}.weight"]
        packed, _ = F.quantize_4bit(x, blocksize=64, compress_statistics=True, quant_type="nf4")
        assert torch.equal(packed.reshape(-1), mod.weight.data.reshape(-1)), f"{n}: requantizing differs"
        _, absmax = torch.ops.bitsandbytes.quantize_4bit.default(x, 64, "nf4", torch.uint8)
        # The block scale bnb dequantizes with: dynamic-map value * nested absmax (f32), then + offset (f32).
        bnb_scale = dmap[st.absmax.long()] * st.state2.absmax.repeat_interleave(256)[: absmax.numel()] + st.offset
        assert torch.equal(bnb_scale, F.dequantize_blockwise(st.absmax, st.state2) + st.offset), f"{n}: scale rule"
        codes, _ = exact_nearest_blockwise(absmax - st.offset, dmap, 256)
        own_offset = torch.tensor(offset_f64(absmax), dtype=torch.float32)
        own_codes, own_nested = exact_nearest_blockwise(absmax - own_offset, dmap, 256)
        own_scale = dmap[own_codes.long()] * own_nested.repeat_interleave(256)[: absmax.numel()] + own_offset
        idx = torch.stack([packed.reshape(-1) >> 4, packed.reshape(-1) & 15], dim=1).reshape(-1).long()
        own_deq = (nf4[idx].view(-1, 64) * own_scale.view(-1, 1)).reshape(st.shape)
        bnb_deq = F.dequantize_4bit(mod.weight.data, st)
        exact_rule_weights[n] = own_deq
        audit[n] = {
            "offset_bnb": st.offset.item(),
            "offset_f64_rule_equal": bool(own_offset.item() == st.offset.item()),
            "codes_differing_from_exact_nearest": int((codes != st.absmax).sum()),
            "exact_rules_max_abs_dequant_diff": (own_deq - bnb_deq).abs().max().item(),
        }
    return audit, exact_rule_weights


def exact_rules_effect(name: str, weights: dict[str, torch.Tensor], batch, logits: torch.Tensor, loss) -> dict:
    """How far the exact-rule dequant moves the no-adapter forward (a tolerance guide for a Swift model quantized
    with its own quantizer instead of loading bnb's quant.* state)."""
    model = mc.load_model(name)
    with torch.no_grad():
        for n, mod in model.named_modules():
            if n in weights:
                mod.weight.copy_(weights[n])
        out = model(**batch)
    return {"max_abs_logit_diff": (out.logits - logits).abs().max().item(),
            "loss_abs_diff": abs(out.loss.item() - loss.item())}


def check_linear_is_dequant_matmul(model, deq: dict[str, torch.Tensor]) -> None:
    """Each Linear4bit forward (eval, no grad; and train with grad) equals F.linear(x, dequant, bias) bit for bit."""
    gen = torch.Generator().manual_seed(11)
    for n, mod in linear4bit_modules(model).items():
        n = strip_peft(n)
        x = torch.randn(5, mod.in_features, generator=gen)
        want = torch.nn.functional.linear(x, deq[f"dequant.{n}.weight"], mod.bias)
        was = mod.training
        mod.eval()
        with torch.no_grad():
            got = mod(x)
        mod.train()
        got_grad = mod(x.clone().requires_grad_(True)).detach()
        mod.train(was)
        assert torch.equal(got, want) and torch.equal(got_grad, want), f"{n}: 4-bit forward != dequant matmul"


def snapshot(model) -> dict:
    """Per parameter (dtype, requires_grad, class), forward-hook counts of the input embeddings, flags."""
    emb = model.get_input_embeddings()
    return {
        "params": {n.replace(".base_layer.", "."): (str(p.dtype).removeprefix("torch."), p.requires_grad,
                                                    p.__class__.__name__)
                   for n, p in model.named_parameters()},
        "embedding_forward_hooks": len(emb._forward_hooks),
        "is_gradient_checkpointing": bool(getattr(model, "is_activation_checkpointing", False)),
        "training": model.training,
    }


def diff_snapshots(before: dict, after: dict) -> dict:
    changes = []
    for n, (dt0, rg0, cls0) in before["params"].items():
        dt1, rg1, cls1 = after["params"][n]
        if dt0 != dt1:
            changes.append(f"{n}: dtype {dt0} -> {dt1}")
        if rg0 != rg1:
            changes.append(f"{n}: requires_grad {rg0} -> {rg1}")
        if cls0 != cls1:
            changes.append(f"{n}: class {cls0} -> {cls1}")
    for key in ("embedding_forward_hooks", "is_gradient_checkpointing", "training"):
        if before[key] != after[key]:
            changes.append(f"{key}: {before[key]} -> {after[key]}")
    return {
        "changes": changes,
        "dtype_casts": [c for c in changes if ": dtype " in c],
        "input_require_grads_hook_added": after["embedding_forward_hooks"] > before["embedding_forward_hooks"],
        "gradient_checkpointing_enabled": after["is_gradient_checkpointing"],
    }


def prepare(model) -> tuple[object, dict]:
    from peft import prepare_model_for_kbit_training

    before = snapshot(model)
    model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    return model, diff_snapshots(before, snapshot(model))


def qlora_model(name: str):
    """4-bit base -> prepare_model_for_kbit_training -> PEFT from lora-init (trainable). Returns (model, records)."""
    from peft import PeftModel

    base, prep = prepare(load_4bit(name))
    before = snapshot(base)
    model = PeftModel.from_pretrained(base, mc.FIXTURES / name / "lora-init", is_trainable=True)
    after = snapshot(model.get_base_model())
    peft_changes = [c for c in diff_snapshots(before, after)["changes"]
                    if "lora_" not in c]  # the new lora_A / lora_B parameters are not in `before`
    return model, {"prepare_model_for_kbit_training": prep, "peft_from_pretrained_other_changes": peft_changes}


def dequantized_base_lora(name: str, deq: dict[str, torch.Tensor]):
    """Control: the f32 model with every 4-bit linear's weight replaced by its dequant, + PEFT from lora-init."""
    from peft import PeftModel

    base = mc.load_model(name)
    with torch.no_grad():
        for n, mod in base.named_modules():
            if f"dequant.{n}.weight" in deq:
                mod.weight.copy_(deq[f"dequant.{n}.weight"])
    return PeftModel.from_pretrained(base, mc.FIXTURES / name / "lora-init", is_trainable=True), {}


def lora_forward_backward(model, batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    model.train()
    model.zero_grad()
    loss = model(**batch).loss
    loss.backward()
    grads = {mc.peft_tensor_name(n): p.grad for n, p in model.named_parameters() if p.requires_grad}
    return loss.detach(), grads


def reference_tensors(name: str) -> tuple[dict[str, torch.Tensor], dict]:
    ref = load_file(mc.FIXTURES / name / "reference.safetensors")
    batch = {k: ref[k] for k in ("input_ids", "attention_mask", "labels")}

    model = load_4bit(name)
    info = check_quantized_modules(name, model)
    deq = quant_tensors(model)
    audit, exact_rule_weights = quantizer_audit(model, load_file(mc.FIXTURES / name / "model.safetensors"))
    info["quantizer_audit"] = audit
    check_linear_is_dequant_matmul(model, deq)
    model.eval()
    with torch.no_grad():
        out = model(**batch)
    model.train()
    with torch.no_grad():
        out_train = model(**batch)
    assert torch.equal(out.logits, out_train.logits), f"{name}: eval and train forward differ"
    tensors = dict(batch)
    tensors["logits"] = out.logits.detach().float().contiguous()
    tensors["loss"] = out.loss.detach().float().reshape(())
    tensors.update(deq)
    info["exact_rules_forward_effect"] = exact_rules_effect(name, exact_rule_weights, batch, out.logits, out.loss)
    info["f32_model"] = {"loss": ref["loss"].item(),
                         "max_abs_logit_diff_4bit_vs_f32": (out.logits - ref["logits"]).abs().max().item()}

    qmodel, records = qlora_model(name)
    info.update(records)
    check_linear_is_dequant_matmul(qmodel, deq)
    loss, _ = lora_forward_backward(qmodel, batch)
    saved = load_file(mc.FIXTURES / name / "lora-init" / "adapter_model.safetensors")
    tensors["lora_loss"] = loss.detach().float().reshape(())
    trainable = []
    for pname, p in qmodel.named_parameters():
        if not p.requires_grad:
            assert p.grad is None, f"{name}: frozen {pname} got a gradient"
            continue
        tname = mc.peft_tensor_name(pname)
        trainable.append(tname)
        assert tname in saved, f"{name}: {tname} not in the saved adapter"
        assert torch.equal(saved[tname], p.detach()), f"{name}: {tname} differs from the saved adapter"
        tensors[f"lora_grad.{tname}"] = p.grad.detach().float().contiguous()
    assert sorted(trainable) == sorted(saved), f"{name}: trainable {len(trainable)} != adapter {len(saved)}"
    f32_grads = load_file(mc.FIXTURES / name / "gradients.safetensors")
    info["f32_model"]["lora_loss"] = f32_grads["lora_loss"].item()

    # Control: is QLoRA here exactly LoRA on the dequantized f32 base? The forward must be (asserted); the backward
    # could round differently (bnb's grad_input is grad_out @ W_dq, not nn.Linear's), so it is measured, not assumed.
    control = dequantized_base_lora(name, deq)[0]
    with torch.no_grad(), control.disable_adapter():
        control_logits = control(**batch).logits
    assert torch.equal(control_logits, tensors["logits"]), f"{name}: dequantized f32 base logits differ"
    c_loss, c_grads = lora_forward_backward(control, batch)
    info["dequantized_f32_base"] = {
        "logits_identical": True,
        "lora_loss_abs_diff": abs(c_loss.item() - tensors["lora_loss"].item()),
        "lora_grad_max_abs_diff": max((c_grads[t] - tensors[f"lora_grad.{t}"]).abs().max().item() for t in c_grads),
        "lora_grad_max_abs": max(tensors[f"lora_grad.{t}"].abs().max().item() for t in c_grads),
    }
    info["trainable_parameters"] = trainable
    return tensors, info


def run_trajectory(name: str, rows: list[list[int]], make_model=qlora_model) -> tuple[dict, dict]:
    """models_trajectory.run for method 'lora', with the QLoRA base; also records what the Trainer forced."""
    frozen, _ = make_model(name)
    frozen.eval()
    model, _ = make_model(name)
    recorder = mt.Recorder()
    lr = mt.LEARNING_RATES["lora"]
    with tempfile.TemporaryDirectory() as tmp:
        trainer = mt.make_trainer(model, rows, lr, recorder, tmp)
        decay = set(trainer.get_decay_parameter_names(trainer.model))
        before = snapshot(model.get_base_model())
        trainer.train()
        after = snapshot(model.get_base_model())
        accepts_loss_kwargs = trainer.model_accepts_loss_kwargs
        optimizer = trainer.optimizer.optimizer if hasattr(trainer.optimizer, "optimizer") else trainer.optimizer
        trainable = [n for n, p in trainer.model.named_parameters() if p.requires_grad]
        forced = {
            "args.gradient_checkpointing": trainer.args.gradient_checkpointing,
            "model.is_gradient_checkpointing_after_train": after["is_gradient_checkpointing"],
            "input_require_grads_hook_after_train": after["embedding_forward_hooks"] > 0,
            "trainer_changes_to_base_model": [c for c in diff_snapshots(before, after)["changes"]
                                              if not c.startswith("training:")],
            "is_loaded_in_4bit": bool(getattr(model.get_base_model(), "is_loaded_in_4bit", False)),
            "trainer_model_class": type(trainer.model).__name__,
            "args.use_cpu": trainer.args.use_cpu,
            "args.bf16": trainer.args.bf16,
            "args.fp16": trainer.args.fp16,
        }

    g = mt.SETTINGS["gradient_accumulation_steps"]
    assert len(recorder.micro_rows) == len(recorder.micro_nll), "collator and loss calls out of step"
    steps = []
    for s, log in enumerate(recorder.logs):
        micro = recorder.micro_nll[s * g : (s + 1) * g]
        nll = sum(m[0] for m in micro)
        tokens = sum(m[1] for m in micro)
        assert all(m[3] == tokens for m in micro), "num_items_in_batch is not the step's token count"
        micro_rows = recorder.micro_rows[s * g : (s + 1) * g]
        before_nll = [mt.batch_nll(frozen, [rows[i] for i in mb], mt.make_collator(mt.Recorder())) for mb in micro_rows]
        assert sum(b[1] for b in before_nll) == tokens
        want_lr = mt.cosine_lr(lr, log["step"] - 1, mt.SETTINGS["warmup_steps"], mt.SETTINGS["max_steps"])
        assert abs(log["learning_rate"] - want_lr) < 1e-12, f"{name}: lr {log['learning_rate']} != {want_lr}"
        steps.append({
            "step": log["step"],
            "micro_batches": micro_rows,
            "num_items_in_batch": tokens,
            "loss": log["loss"],
            "exact_loss": nll / tokens,
            "micro_batch_losses": [m[2] for m in micro],
            "initial_model_loss": sum(b[0] for b in before_nll) / tokens,
            "grad_norm": log["grad_norm"],
            "learning_rate": log["learning_rate"],
        })
    assert len(steps) == mt.SETTINGS["max_steps"], f"{name}: {len(steps)} logged steps"
    run = {
        "learning_rate": lr,
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
        "adapter": f"{name}/lora-init/ (r 4, lora_alpha 8, scaling 2, all-linear), on the 4-bit base",
    }
    return run, forced


def trajectory_doc(name: str, info: dict) -> dict:
    rows = mt.make_dataset(256)
    on_disk = [json.loads(line)["input_ids"] for line in (mc.FIXTURES / name / "train.jsonl").read_text().splitlines()]
    assert on_disk == rows, f"{name}: train.jsonl differs from models_trajectory.make_dataset"
    run, forced = run_trajectory(name, rows)
    deq = load_file(OUT / name / "reference.safetensors")
    control, _ = run_trajectory(name, rows, lambda n: dequantized_base_lora(n, deq))
    pairs = list(zip(run["steps"], control["steps"]))
    control_diff = {
        "note": "the same Trainer run with LoRA on the f32 model whose linears hold the dequantized weights",
        "max_abs_loss_diff": max(abs(a["loss"] - b["loss"]) for a, b in pairs),
        "max_abs_exact_loss_diff": max(abs(a["exact_loss"] - b["exact_loss"]) for a, b in pairs),
        "max_abs_grad_norm_diff": max(abs(a["grad_norm"] - b["grad_norm"]) for a, b in pairs),
    }
    f32 = json.loads((mc.FIXTURES / name / "trajectory.json").read_text())
    assert [s["micro_batches"] for s in f32["lora"]["steps"]] == [s["micro_batches"] for s in run["steps"]]
    semantics = dict(f32["semantics"])
    semantics["quantization"] = (
        "every decoder linear is y = x @ W_dq.T (+ b), W_dq = bnb dequantize_4bit (NF4, blocksize 64, double-quant "
        "scales, f32) of the frozen base weight; forward and input-gradient both use W_dq in f32; lm_head, "
        "embeddings and norms are frozen f32; only lora_A / lora_B train"
    )
    return {
        "script": SCRIPT,
        "model": name,
        "method": "qlora",
        "versions": versions(),
        "dataset": f"{name}/train.jsonl (Fixtures/{name}/train.jsonl, the rows of models_trajectory.py; not copied): "
        "one row per line, labels = input_ids (all tokens trained)",
        "settings": mt.SETTINGS,
        "collator": f32["collator"],
        "semantics": semantics,
        "quantization": {k: info[k] for k in ("quantized_modules", "quant_state", "tied_word_embeddings")},
        "prepare_model_for_kbit_training": info["prepare_model_for_kbit_training"],
        "forced": forced,
        "dequantized_f32_base_control": control_diff,
        "f32_lora_losses": [s["loss"] for s in f32["lora"]["steps"]],
        "lora": run,
    }


OWN_FILES = ("reference.safetensors", "trajectory.json")  # per model; other files in qlora/ come from other scripts
OTHER_SCRIPTS = {"model-4bit": "tools/reference/qlora_save4bit.py"}


def script_for(rel: str) -> str:
    parts = rel.split("/")
    if len(parts) == 2 and parts[1] in OWN_FILES:
        return SCRIPT
    if len(parts) > 2 and parts[1] in OTHER_SCRIPTS:
        return OTHER_SCRIPTS[parts[1]]
    sys.exit(f"qlora/{rel}: no generating script known; add it to OTHER_SCRIPTS in {SCRIPT}")


def write_manifest(notes: dict) -> dict:
    files = []
    for path in sorted(p for p in OUT.rglob("*") if p.is_file() and p.name != "manifest.json"):
        rel = path.relative_to(OUT).as_posix()
        files.append({"path": rel, "script": script_for(rel), "bytes": path.stat().st_size, "sha256": mc.sha256(path)})
    manifest = {
        "description": "QLoRA reference fixtures (bitsandbytes NF4 double-quant base on CPU + PEFT LoRA) for the tiny "
        "models; regenerate with tools/reference/qlora_fixtures.py (and the scripts named per file), see "
        "tools/reference/README.md",
        "script": SCRIPT,
        "versions": versions(),
        "total_bytes": sum(f["bytes"] for f in files),
        "files": files,
        "notes": notes,
    }
    path = OUT / "manifest.json"
    path.write_text(json.dumps(manifest, indent=1) + "\n")
    path.chmod(0o644)
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true", help="regenerate and exit 1 if any file changed")
    args = parser.parse_args()
    mc.check_versions()  # re-executes with PYTHONHASHSEED=0
    check_bnb_version()
    torch.set_num_threads(2)
    previous = None
    if args.check and (OUT / "manifest.json").exists():
        previous = {f["path"]: f["sha256"] for f in json.loads((OUT / "manifest.json").read_text())["files"]
                    if f["script"] == SCRIPT}
    notes = {}
    for name in QLORA_MODELS:
        (OUT / name).mkdir(parents=True, exist_ok=True)
        tensors, info = reference_tensors(name)
        meta = dict(info, script=SCRIPT, model=name, batch=f"{name}/reference.safetensors",
                    lora="lora-init/ r=4 lora_alpha=8 lora_dropout=0 all-linear",
                    bnb_cpu_bf16_inference_path="disabled (support_avx512bf16_for_cpu = False on every Linear4bit)",
                    checks=["every Linear4bit forward == F.linear(x, dequant, bias) bit-exactly (eval and train)",
                            "bnb CPU dequantize_4bit == bnb pure-torch reference dequant bit-exactly",
                            "eval and train forward logits identical",
                            "the f32 model with the dequant.* weights gives identical logits"])
        mc.save_fixture(tensors, OUT / name / "reference.safetensors", dict(meta, bitsandbytes=versions()["bitsandbytes"]))
        doc = trajectory_doc(name, info)
        path = OUT / name / "trajectory.json"
        path.write_text(json.dumps(doc, indent=1) + "\n")
        path.chmod(0o644)
        losses = [s["loss"] for s in doc["lora"]["steps"]]
        notes[name] = {
            "loss": tensors["loss"].item(),
            "lora_loss": tensors["lora_loss"].item(),
            "f32_loss": info["f32_model"]["loss"],
            "f32_lora_loss": info["f32_model"]["lora_loss"],
            "trajectory_loss_step1": losses[0],
            "trajectory_loss_step10": losses[-1],
            "prepare_model_for_kbit_training": info["prepare_model_for_kbit_training"],
            "forced_by_trainer": doc["forced"],
            "quantizer_audit": {
                "modules_offset_f64_rule_differs": sorted(k for k, v in info["quantizer_audit"].items()
                                                          if not v["offset_f64_rule_equal"]),
                "modules_codes_differ_from_exact_nearest": sorted(
                    k for k, v in info["quantizer_audit"].items() if v["codes_differing_from_exact_nearest"]),
                "max_abs_dequant_diff_exact_rules": max(v["exact_rules_max_abs_dequant_diff"]
                                                        for v in info["quantizer_audit"].values()),
                "exact_rules_forward_effect": info["exact_rules_forward_effect"],
            },
            "dequantized_f32_base_control": {"reference": info["dequantized_f32_base"],
                                             "trajectory": doc["dequantized_f32_base_control"]},
        }
        print(f"{name}: 4-bit loss {tensors['loss'].item():.6f} (f32 {info['f32_model']['loss']:.6f}), "
              f"qlora_loss {tensors['lora_loss'].item():.6f} (f32 {info['f32_model']['lora_loss']:.6f}), "
              f"{len(info['quantized_modules'])} Linear4bit")
        print(f"{name} qlora: {' '.join(f'{x:.4f}' for x in losses)}")
    manifest = write_manifest(notes)
    print(f"{len(manifest['files'])} files, {manifest['total_bytes']} bytes -> {OUT / 'manifest.json'}")
    if previous is not None:
        now = {f["path"]: f["sha256"] for f in manifest["files"] if f["script"] == SCRIPT}
        bad = sorted(p for p in previous.keys() | now.keys() if previous.get(p) != now.get(p))
        if bad:
            sys.exit("fixtures changed: " + ", ".join(bad))
        print("check OK: identical to the previous run")


if __name__ == "__main__":
    main()
