#!/usr/bin/env bash
# Builds target/debian/pledgewatch_<version>_amd64.deb: the release binary, its man pages
# and completions (written by the binary itself into target/assets/), then `cargo deb`.
# Extra arguments go to cargo deb (e.g. --deb-version 0.1.1 for an upgrade test).
# Needs the cargo-deb tool: cargo install cargo-deb --locked
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked
rm -rf target/assets
target/release/pledgewatch assets --out target/assets
cargo deb --no-build --locked --strip --no-separate-debug-symbols "$@"
