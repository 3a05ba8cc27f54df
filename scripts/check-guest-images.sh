#!/usr/bin/env bash
# CI hook: checks that the committed guest images (packages/guests/images) are
# what their sources (packages/guests/kernel) build to. With clang and ld.lld
# installed it rebuilds everything in a temporary directory and fails when any
# image or the manifest differs (`pnpm guests:build --check`). A different
# clang than the one recorded in images/manifest.json may generate other code,
# so then only the sources digest is compared. Without clang it says so and
# succeeds: the vitest suite still checks the sources digest and the images'
# sha256 against the manifest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

clang="${HVKIT_CLANG:-clang}"
lld="${HVKIT_LLD:-ld.lld}"
if ! command -v "$clang" >/dev/null 2>&1 || ! command -v "$lld" >/dev/null 2>&1; then
  echo "check-guest-images: $clang or $lld not installed: skipping the rebuild (scripts/install-debian-deps.sh installs them)"
  exit 0
fi
pnpm --silent guests:build --check
