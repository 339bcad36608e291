#!/usr/bin/env bash
# Builds the Rust crates against the installed library (bitnet-sys's build.rs asks pkg-config)
# and runs `cargo test --offline`: header coverage, struct layouts, the greedy tokens of the C
# API, and a bad model path as Err(Error { status: Io, .. }).
source "$(dirname "$0")/common.sh"
# rustup installs cargo under ~/.cargo/bin, which a CI environment may leave off PATH.
cargo=$(command -v cargo || echo "${HOME:-}/.cargo/bin/cargo")
[ -x "$cargo" ] || { echo "cargo not found"; exit 1; }
# Built under the build tree, so the source tree stays clean and rebuilds are incremental.
export CARGO_TARGET_DIR=$build/bindings/rust
cd "$source/bindings/rust"
"$cargo" test --offline --locked
