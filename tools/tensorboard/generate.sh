#!/usr/bin/env bash
# Regenerates Sources/TailorTraining/TensorBoard/tensorboard_event.pb.swift from tools/tensorboard/tensorboard_event.proto.
# Needs protoc (Debian: apt-get install protobuf-compiler; 3.21.12 made the committed file) and protoc-gen-swift built
# from swift-protobuf 1.39.0 (the version Package.swift depends on):
#   git clone https://github.com/apple/swift-protobuf /tmp/swift-protobuf && cd /tmp/swift-protobuf
#   git checkout 1.39.0 && swift build -c release --product protoc-gen-swift
# The package build never runs protoc; the generated file is committed.
set -euo pipefail
plugin=${PROTOC_GEN_SWIFT:-/tmp/swift-protobuf/.build/release/protoc-gen-swift}
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../../Sources/TailorTraining/TensorBoard"
protoc --plugin=protoc-gen-swift="$plugin" --swift_opt=Visibility=Internal --proto_path="$here" --swift_out="$out" \
  "$here/tensorboard_event.proto"
