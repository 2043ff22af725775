#!/usr/bin/env bash
# Generated API documentation: one DocC archive per library module under .build-docs/docs/, from the DocC comments
# in the sources (swift's symbol graphs + the toolchain's `docc`; no plugin needed). Open
# .build-docs/docs/<Module>.doccarchive with `docc preview` or serve the folder: the archives are built for static
# hosting.
set -euo pipefail
cd "$(dirname "$0")/.."
graphs=.build-docs/symbol-graphs
rm -rf "$graphs" .build-docs/docs && mkdir -p "$graphs" .build-docs/docs
swift build --scratch-path .build-docs --target Tailor \
  -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$PWD/$graphs" >/dev/null
for module in TailorTensor TailorKernels TailorFormats TailorTokenizers TailorChat TailorModels TailorMetrics \
              TailorQuantization TailorOptim TailorTraining TailorPlan TailorData TailorExport TailorEval; do
  one=$(mktemp -d)
  cp "$graphs/$module.symbols.json" "$graphs/$module"@*.symbols.json "$one/" 2>/dev/null || true
  docc convert --additional-symbol-graph-dir "$one" --fallback-display-name "$module" \
    --fallback-bundle-identifier "org.tailor.$module" --transform-for-static-hosting \
    --output-path ".build-docs/docs/$module.doccarchive" >/dev/null
  rm -rf "$one"
  echo "$module: .build-docs/docs/$module.doccarchive"
done
