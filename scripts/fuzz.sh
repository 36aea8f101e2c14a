#!/usr/bin/env bash
# Runs the QR payload fuzz targets in fuzz/ for a bounded time each.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS  run time per target (default 60)
#   TARGET   decode_credential, decode_payload, read_qr_luma (default: all three)
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). This is a
# manual check like a benchmark, not part of CI. Crashing inputs are written to
# fuzz/artifacts/TARGET/, and the corpus grows in fuzz/corpus/TARGET/ between runs.
set -euo pipefail

seconds="${1:-60}"
shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  targets=(decode_credential decode_payload read_qr_luma)
fi

case "$seconds" in
  '' | *[!0-9]*)
    echo "error: SECONDS must be a whole number, got '$seconds'" >&2
    exit 2
    ;;
esac

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fixtures="$repo/crates/vaccred-core/tests/fixtures/qr"
cd "$repo/fuzz"

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "error: cargo-fuzz with a nightly toolchain is required: rustup toolchain install nightly && cargo install cargo-fuzz" >&2
  exit 2
fi

for target in "${targets[@]}"; do
  corpus="corpus/$target"
  mkdir -p "$corpus"
  # Seed with the committed fixtures so the fuzzer starts from valid inputs.
  case "$target" in
    decode_credential)
      cp "$fixtures"/*.json "$fixtures"/*.zip "$fixtures"/*.png "$fixtures"/*.jpg \
        "$fixtures"/*.txt "$fixtures"/*.bin "$corpus"/ 2>/dev/null || true
      max_len=65536
      ;;
    decode_payload)
      cp "$fixtures"/*.json "$fixtures"/*.zip "$fixtures"/*.txt "$fixtures"/*.bin \
        "$corpus"/ 2>/dev/null || true
      max_len=8192
      ;;
    read_qr_luma)
      cp "$fixtures"/*.luma "$corpus"/ 2>/dev/null || true
      max_len=262144
      ;;
    *)
      echo "error: unknown target '$target': use decode_credential, decode_payload or read_qr_luma" >&2
      exit 2
      ;;
  esac

  echo "fuzzing $target for ${seconds}s"
  # -timeout flags any single input that runs longer than 10 s as a hang, and
  # -rss_limit_mb flags any that needs more than 2 GiB.
  cargo +nightly fuzz run "$target" "$corpus" -- \
    -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1
done
