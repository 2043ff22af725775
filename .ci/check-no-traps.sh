#!/usr/bin/env bash
# Library code must never trap on what a user supplies: no try!, as!, fatalError, and no force unwraps outside
# the kernels (pointer unwraps of `baseAddress!` on tensors, which always have storage, are allowed).
set -u
cd "$(dirname "$0")/.."
status=0
hard=$(grep -rnE 'try!|as!|fatalError\(' Sources --include='*.swift' | grep -v '^Sources/tailor/' || true)
if [ -n "$hard" ]; then echo "try!/as!/fatalError in library code:"; echo "$hard"; status=1; fi
# A force unwrap: an identifier, ) or ] directly followed by ! that is not part of != .
unwraps=$(grep -rnE '[]A-Za-z0-9_)]!([^=]|$)' Sources --include='*.swift' \
  | grep -v '^Sources/TailorKernels/' | grep -v '^Sources/tailor/' \
  | grep -vE '^[^:]+:[0-9]+:\s*(///|//)' \
  | sed -E 's/"([^"\\]|\\.)*"//g; s/baseAddress!//g' | grep -E '[]A-Za-z0-9_)]!([^=]|$)' || true)
if [ -n "$unwraps" ]; then echo "force unwraps in library code:"; echo "$unwraps"; status=1; fi
[ $status -eq 0 ] && echo "no-traps check: ok"
exit $status
