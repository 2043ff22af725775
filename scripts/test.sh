#!/usr/bin/env bash
# The test command: installs what the build needs, fetches the real model for the integration tests, runs
# the no-traps check and every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
export TAILOR_SMOLLM2_GGUF="$(scripts/fetch-smollm2.sh)"
.ci/check-no-traps.sh
python3 scripts/check-architecture.py
swift build --build-tests
# Smoke run of every libFuzzer target (a few seconds each; scripts/fuzz.sh TARGET SECONDS for real runs).
scripts/fuzz.sh all 3
# XCTest only: the project has no Swift Testing suites, and its empty run would otherwise print the last summary line.
swift test --disable-swift-testing
