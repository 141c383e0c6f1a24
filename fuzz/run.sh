#!/usr/bin/env bash
# Fuzzes each target for SECONDS (default 60) with libFuzzer, through cargo-fuzz on nightly.
# A crashing input is copied into fuzz/regressions/<target>/, which stable `cargo test`
# replays (tests/fuzz_regressions.rs); after every target has run, the script exits non-zero
# if any crashed. Usage: fuzz/run.sh [SECONDS] [TARGET...]
#
# FUZZ_SANITIZER (default none) is passed to `cargo fuzz --sanitizer`: switchboard has no
# `unsafe`, so AddressSanitizer would mostly slow the runs; `address` is there when wanted.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift $(($# > 0 ? 1 : 0))
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(signature form twiml templates)
fi

if ! rustup toolchain list | grep '^nightly' >/dev/null; then
  echo "fuzz/run.sh needs the nightly toolchain: rustup toolchain install nightly" >&2
  exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

crashed=()
for target in "${targets[@]}"; do
  corpus=fuzz/corpus/$target
  artifacts=fuzz/artifacts/$target
  regressions=fuzz/regressions/$target
  # Artifacts are cleared first so that whatever is there afterwards is this run's.
  rm -rf "$artifacts"
  mkdir -p "$corpus" "$artifacts" "$regressions"
  echo "== fuzz $target for ${seconds}s"
  # The first directory collects the new corpus; seeds and past crashes are read as a start.
  if cargo +nightly fuzz run --sanitizer "${FUZZ_SANITIZER:-none}" --debug-assertions \
    "$target" "$corpus" "fuzz/seeds/$target" "$regressions" -- \
    -max_total_time="$seconds" -timeout=10 -print_final_stats=1; then
    continue
  fi
  crashed+=("$target")
  saved=0
  for input in "$artifacts"/*; do
    [ -f "$input" ] || continue
    cp "$input" "$regressions/"
    echo "saved $regressions/$(basename "$input"); replay it with cargo test --test fuzz_regressions" >&2
    saved=1
  done
  if [ $saved -eq 0 ]; then
    echo "$target failed without leaving an input (a build error?)" >&2
  fi
done

if [ ${#crashed[@]} -gt 0 ]; then
  echo "fuzzing found crashes in: ${crashed[*]}" >&2
  exit 1
fi
echo "== fuzzing found nothing in ${seconds}s per target"
