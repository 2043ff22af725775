#!/usr/bin/env bash
# Builds one libFuzzer target (or `all`) under .build/fuzz and runs it for SECONDS on its seed corpus.
#   scripts/fuzz.sh TARGET SECONDS     targets: safetensors gguf tokenizer template recipe jsonl all
# Seeds live in Fuzz/Corpus/TARGET and the minimised corpus of earlier runs in Fuzz/Found/TARGET (both kept in the
# repo); inputs libFuzzer finds go to .build/fuzz/corpus/TARGET, and
# a crash, timeout, out-of-memory or leak is written to .build/fuzz/TARGET-KIND-* and makes the script fail. The libraries are compiled from
# Sources/ with -sanitize=fuzzer,address (set FUZZ_SANITIZE to change), so coverage guides the search.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh TARGET SECONDS}
seconds=${2:-10}
all=(safetensors gguf tokenizer template recipe jsonl)
out=.build/fuzz
mkdir -p "$out/corpus"
flags=(-sanitize="${FUZZ_SANITIZE:-fuzzer,address}" -parse-as-library -Onone -g -swift-version 6 -I "$out")

# A static library and module for each Tailor target the fuzzers read through; rebuilt when a source is newer.
module() {
    local name=$1; shift
    local lib="$out/lib$name.a"
    if [[ -f $lib ]] && [[ -z $(find "Sources/$name" -newer "$lib" -name '*.swift' | head -1) ]]; then return; fi
    swiftc "${flags[@]}" -emit-library -static -emit-module -module-name "$name" -emit-module-path "$out/$name.swiftmodule" \
        -o "$lib" Sources/"$name"/*.swift "$@" 2>&1 | { grep -v "Cannot export local symbol" || true; }
}
build_libraries() {
    module TailorText
    module TailorTensor
    module TailorTokenizers
    module TailorChat
    module TailorFormats
    module TailorReport
    module TailorData
}

# The recipe target reads through Yams as `tailor` does: the package build's Yams objects and module.
yams=(-I .build/debug/Modules -Xcc -fmodule-map-file=.build/checkouts/Yams/Sources/CYaml/include/module.modulemap
      -Xcc -I.build/checkouts/Yams/Sources/CYaml/include .build/debug/Yams.build/*.o .build/debug/CYaml.build/src/*.o)

build_target() {
    local name=$1 extra=()
    case $name in
        safetensors|gguf) extra=("$out/libTailorFormats.a" "$out/libTailorTensor.a" "$out/libTailorText.a") ;;
        tokenizer) extra=("$out/libTailorTokenizers.a" "$out/libTailorText.a") ;;
        template) extra=("$out/libTailorChat.a" "$out/libTailorTokenizers.a" "$out/libTailorText.a") ;;
        jsonl) extra=("$out/libTailorData.a" "$out/libTailorReport.a" "$out/libTailorChat.a" "$out/libTailorTokenizers.a" "$out/libTailorTensor.a" "$out/libTailorText.a") ;;
        recipe)
            [[ -f .build/debug/Yams.build/Parser.swift.o ]] || swift build --product tailor >/dev/null
            extra=(Sources/TailorTraining/RecipeBounds.swift Sources/TailorTraining/TrainingError.swift
                   Sources/tailor/Support/RecipeFile.swift -D TAILOR_FUZZ "${yams[@]}") ;;
        *) echo "unknown target $name (known: ${all[*]})" >&2; exit 2 ;;
    esac
    swiftc "${flags[@]}" -module-name "Fuzz_$name" -o "$out/fuzz-$name" Fuzz/Targets/"$name".swift Fuzz/Targets/Scratch.swift "${extra[@]}" 2>&1 |
        { grep -v "Cannot export local symbol" || true; }
}

run_target() {
    local name=$1
    mkdir -p "$out/corpus/$name"
    # Seeds (Fuzz/Corpus); real runs also start from what earlier runs found (Fuzz/Found, minimised with -merge=1),
    # smoke runs from the seeds alone so they stay a few seconds.
    local seeds=("Fuzz/Corpus/$name")
    if (( seconds > 10 )) && [[ -d Fuzz/Found/$name ]]; then seeds+=("Fuzz/Found/$name"); fi
    # -rss_limit_mb bounds memory like the CLI tests' ulimit; -timeout (wall seconds, FUZZ_TIMEOUT) flags an input that
    # runs away, and is generous because a nice'd process on a busy machine can wait seconds for a core.
    nice "$out/fuzz-$name" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout="${FUZZ_TIMEOUT:-60}" -max_len=65536 \
        -artifact_prefix="$out/$name-" -print_final_stats=1 "$out/corpus/$name" "${seeds[@]}" 2>&1 |
        grep -E "^(stat::number_of_executed_units|stat::new_units_added|Done|==[0-9]+==|SUMMARY|INFO: Running with)|crash-" || true
    # Slow units (slow-unit-*) are reported but are not failures; crashes, timeouts, out-of-memory and leaks are.
    for kind in crash timeout oom leak; do
        if compgen -G "$out/$name-$kind-*" >/dev/null; then echo "fuzz $name: failing inputs in $out/$name-$kind-*" >&2; return 1; fi
    done
}

build_libraries
targets=("$target")
[[ $target == all ]] && targets=("${all[@]}")
for name in "${targets[@]}"; do build_target "$name"; done
for name in "${targets[@]}"; do echo "== fuzz $name (${seconds}s)"; run_target "$name"; done
