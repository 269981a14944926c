#!/bin/sh
# Regenerate registry-cache/ from the lock files it serves (needs crates.io).
#   whole files:  the bundled examples' locks, ripgrep and fd from ../shared/corpus
#   locked-only:  the other ../shared/corpus projects (only their locked versions' lines)
# crate-info/ (facts from .crate manifests, another module's side table) is left alone.
set -eu
cd "$(dirname "$0")/.."
corpus=../shared/corpus
out=registry-cache
find "$out" -mindepth 1 -maxdepth 1 ! -name crate-info ! -name README.md ! -name refresh.sh \
    -exec rm -rf {} +
locked_only=""
for p in bat cargo helix hyperfine just starship; do
    locked_only="$locked_only --lockfile $corpus/$p/Cargo.lock"
done
# shellcheck disable=SC2086
python3 -m nocargo_py index vendor --out "$out" --locked-only $locked_only "$@"
whole="--lockfile $corpus/ripgrep/Cargo.lock --lockfile $corpus/fd/Cargo.lock"
for lock in examples/*/Cargo.lock; do
    [ -f "$lock" ] && whole="$whole --lockfile $lock"
done
# shellcheck disable=SC2086
python3 -m nocargo_py index vendor --out "$out" $whole "$@"
