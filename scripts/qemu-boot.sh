#!/usr/bin/env bash
# Boots the kernel and initramfs that `pnpm linux:fetch` cached under QEMU's
# riscv64 "virt" board (OpenSBI from -bios default) and checks that the guest
# prints BOOT-OK and powers off. A reference point for hvkit's own boot, not
# part of the test suite. Extra arguments go to QEMU; QEMU_APPEND adds to the
# kernel command line; QEMU_TIMEOUT (seconds, default 120) bounds the run.
set -euo pipefail

cache="${HVKIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hvkit}"
manifest="$cache/linux/manifest.json"
if [ ! -f "$manifest" ]; then
  echo "qemu-boot: no $manifest; run pnpm linux:fetch first" >&2
  exit 1
fi
if ! command -v qemu-system-riscv64 >/dev/null; then
  echo "qemu-boot: qemu-system-riscv64 not found (on Debian: apt-get install qemu-system-misc)" >&2
  exit 1
fi
kernel=$(node -p 'require(process.argv[1]).kernel.path' "$manifest")
initrd=$(node -p 'require(process.argv[1]).initramfs.path' "$manifest")

log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$(date +%s%N)
set +e
timeout "${QEMU_TIMEOUT:-120}" qemu-system-riscv64 -M virt -m 512M -nographic -bios default \
  -kernel "$kernel" -initrd "$initrd" -append "console=ttyS0 ${QEMU_APPEND:-}" "$@" </dev/null | tee "$log"
status=${PIPESTATUS[0]}
set -e
end=$(date +%s%N)
wall=$(( (end - start) / 1000000 ))

if [ "$status" = 124 ]; then
  echo "qemu-boot: timed out after ${QEMU_TIMEOUT:-120}s" >&2
  exit 1
fi
if ! grep -q 'BOOT-OK' "$log"; then
  echo "qemu-boot: no BOOT-OK on the console (QEMU exited with $status after ${wall} ms)" >&2
  exit 1
fi
echo "qemu-boot: BOOT-OK, $(grep -o 'EXIT-STATUS=[0-9]*' "$log" | tail -1), powered off; QEMU exited with $status after ${wall} ms"
