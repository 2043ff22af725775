"""Writes Tests/TailorModelsTests/Fixtures/manifest.json: every file under tiny-*/ and smollm2/ with its generating
script, size and SHA-256 (qlora/ has its own manifest, written by qlora_fixtures.py).

Pinned: see requirements-models.txt (the versions recorded are the ones installed when this runs).
Usage (repository root, after the other models_*.py scripts):  /opt/refvenv/bin/python tools/reference/models_manifest.py
Verify without writing:  /opt/refvenv/bin/python tools/reference/models_manifest.py --check
"""

from __future__ import annotations

import argparse
import json
import sys

import models_common as mc

SCRIPTS = {
    "config.json": "models_forward.py",
    "generation_config.json": "models_forward.py",
    "model.safetensors": "models_forward.py",
    "reference.safetensors": "models_forward.py",
    "gradients.safetensors": "models_gradients.py",
    "adapter_config.json": "models_gradients.py",
    "adapter_model.safetensors": "models_gradients.py",
    "train.jsonl": "models_trajectory.py",
    "trajectory.json": "models_trajectory.py",
}
SKIP = {"manifest.json", ".gitkeep"}
# Folders this manifest covers; others (qlora/, made by qlora_fixtures.py) keep their own manifest.
FOLDERS = (*mc.TINY_MODELS, "smollm2")


def script_for(rel: str) -> str:
    if rel.startswith("smollm2/"):
        return "tools/reference/models_smollm2.py"
    name = rel.rsplit("/", 1)[-1]
    if name == "gguf-py-f32.gguf":
        # Each family's gguf-py file: models_<family>_gguf.py (tiny-qwen3 -> models_qwen3_gguf.py).
        return f"tools/reference/models_{rel.split('/')[0].removeprefix('tiny-')}_gguf.py"
    if name not in SCRIPTS:
        sys.exit(f"{rel}: no generating script known; add it to SCRIPTS in models_manifest.py")
    return "tools/reference/" + SCRIPTS[name]


def build() -> dict:
    files = []
    paths = [p for folder in FOLDERS for p in (mc.FIXTURES / folder).rglob("*")]
    for path in sorted(p for p in paths if p.is_file() and p.name not in SKIP):
        rel = path.relative_to(mc.FIXTURES).as_posix()
        files.append({"path": rel, "script": script_for(rel), "bytes": path.stat().st_size, "sha256": mc.sha256(path)})
    return {
        "description": "TailorModels reference fixtures (transformers / torch / peft). Regenerate with "
        "tools/reference/models_{forward,gradients,trajectory,smollm2,manifest}.py; see tools/reference/README.md",
        "versions": {k: v for k, v in mc.library_versions().items()},
        "total_bytes": sum(f["bytes"] for f in files),
        "files": files,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true", help="compare against the existing manifest, write nothing")
    args = parser.parse_args()
    mc.check_versions()
    manifest = build()
    path = mc.FIXTURES / "manifest.json"
    if args.check:
        old = json.loads(path.read_text())
        old_files = {f["path"]: f["sha256"] for f in old["files"]}
        new_files = {f["path"]: f["sha256"] for f in manifest["files"]}
        bad = sorted(p for p in old_files.keys() | new_files.keys() if old_files.get(p) != new_files.get(p))
        if bad:
            sys.exit("manifest mismatch: " + ", ".join(bad))
        print(f"manifest OK: {len(new_files)} files")
        return
    path.write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"{len(manifest['files'])} files, {manifest['total_bytes']} bytes -> {path}")


if __name__ == "__main__":
    main()
