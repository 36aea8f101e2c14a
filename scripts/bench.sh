#!/usr/bin/env bash
# Measures credential signing and verification on one core, in vaccred (criterion) and in
# DIVOC's Node signer (certificate-signer-library 2.0.5) on the same credential, and prints
# a Markdown table with the ratios, then certificate PDFs per second. Run by hand; results
# go into docs/benchmarks.md.
#
# Usage: scripts/bench.sh [SECONDS]   (measurement time per benchmark, default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-5}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
fixtures=crates/vaccred-core/tests/fixtures

cargo bench -p vaccred-core --bench credentials -- \
    --warm-up-time 2 --measurement-time "$seconds" >&2

harness="$CARGO_TARGET_DIR/tmp/bench-divoc-harness"
if [ ! -d "$harness/node_modules" ]; then
    rm -rf "$harness" && mkdir -p "$harness"
    cp interop/divoc/*.js interop/divoc/package.json interop/divoc/package-lock.json "$harness/"
    (cd "$harness" && npm ci --ignore-scripts --no-audit --no-fund >&2)
fi
ed_private=$(python3 -c "import json;print(json.load(open('$fixtures/divoc/divoc-dev-ed25519.json'))['privateKeyBase58'])")
ed_public=$(python3 -c "import json;print(json.load(open('$fixtures/divoc/divoc-dev-ed25519.json'))['publicKeyBase58'])")
node "$harness/divoc.js" bench --in "$fixtures/appendix-a/v3-unsigned.json" --seconds "$seconds" \
    --b58-priv "$ed_private" --b58-pub "$ed_public" > "$CARGO_TARGET_DIR/tmp/node-ed25519.json"
node "$harness/divoc.js" bench --in "$fixtures/appendix-a/v3-unsigned.json" --seconds "$seconds" \
    --pem-priv "$fixtures/divoc/divoc-dev-rsa.priv.pem" --pem-pub "$fixtures/divoc/divoc-dev-rsa.pub.pem" \
    > "$CARGO_TARGET_DIR/tmp/node-rsa.json"

python3 - "$CARGO_TARGET_DIR" <<'PY'
import json, sys
target = sys.argv[1]
def rust_rate(name):
    with open(f"{target}/criterion/{name}/new/estimates.json") as f:
        return 1e9 / json.load(f)["median"]["point_estimate"]
def node_rates(key):
    with open(f"{target}/tmp/node-{key}.json") as f:
        data = json.load(f)
    return data["sign_per_sec"], data["verify_per_sec"], data.get("node", "")
print("| operation | vaccred (per s, 1 core) | DIVOC Node (per s) | ratio |")
print("| --- | ---: | ---: | ---: |")
for key, label in (("ed25519", "Ed25519"), ("rsa", "RSA-2048")):
    node_sign, node_verify, version = node_rates(key)
    rust_key = "ed25519" if key == "ed25519" else "rsa2048"
    for op, node_rate in (("sign", node_sign), ("verify", node_verify)):
        rate = rust_rate(f"{op}_{rust_key}")
        print(f"| {label} {op} | {rate:,.0f} | {node_rate:,.0f} | {rate / node_rate:.1f}x |")
print()
print(f"canonicalize (V3 document): {rust_rate('canonicalize_v3'):,.0f} per s; Node {version}")
PY

# Certificate PDFs per second and peak RSS (crates/vaccred-pdf/examples/pdfbench.rs).
echo
cargo run --release -q -p vaccred-pdf --example pdfbench -- 2000
