#!/usr/bin/env bash
# Installs the Debian packages hvkit's tests and tools use, when missing:
# clang, lld and llvm (to build and check riscv64 guests and disassembly),
# opensbi (real firmware for the Linux boot tests), cpio (initramfs checks),
# qemu-utils (qemu-img: disk-image interoperability), e2fsprogs (ext2 images
# for the virtio-blk tests), chromium (the benchmark report checked in a real
# headless browser).
# Safe to run repeatedly; needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(clang lld llvm opensbi cpio qemu-utils e2fsprogs chromium)
# --with-qemu: also QEMU, which the benchmarks run beside hvkit for comparison.
if [ "${1:-}" = "--with-qemu" ]; then packages+=(qemu-system-misc); fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    echo "install-debian-deps: need root to install: ${missing[*]}" >&2
    exit 1
  fi
fi
echo "install-debian-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
