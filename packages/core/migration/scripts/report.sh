#!/usr/bin/env bash
# Live-migration report (issue 12): a Debian Linux guest (256 MiB) migrated
# between two hvkit processes on loopback, idle (sleep) and dirtying memory
# (busybox cp of 8 MiB of random data in a loop), at 1 Gbit/s (Clark et al.'s
# link) and 100 Mbit/s. Needs the Linux cache (pnpm setup:guests). Writes one
# JSON report per run into $OUT (default ./migration-report) and prints each
# report's summary.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
OUT=${OUT:-migration-report}
PORT=${PORT:-7470}
mkdir -p "$OUT"
manifest=${HVKIT_CACHE:-$HOME/.cache/hvkit}/linux/manifest.json
kernel=$(node -e "console.log(require('$manifest').kernel.path)")
busybox=$(node -e "console.log(require('$manifest').busybox.path)")
printf 'echo IDLE-READY\nsleep 100000\n' >"$OUT/idle.sh"
printf 'dd if=/dev/urandom of=/src bs=1M count=8 2>/dev/null\necho DIRTY-READY\nwhile true; do cp /src /f; done\n' >"$OUT/dirty.sh"
for w in idle dirty; do
  pnpm -s hvkit initramfs --busybox "$busybox" --script "$OUT/$w.sh" -o "$OUT/$w.cpio.gz" >/dev/null
done
for bw in 125000000 12500000; do
  for w in idle dirty; do
    pnpm -s hvkit receive --listen "$PORT" --host 127.0.0.1 --max-steps 3e9 >"$OUT/$w.$bw.target.out" 2>"$OUT/$w.$bw.target.err" &
    target=$!
    sleep 3
    ready=$(echo "$w" | tr a-z A-Z)-READY
    pnpm -s hvkit migrate --kernel "$kernel" --initrd "$OUT/$w.cpio.gz" --append "console=ttyS0 quiet" \
      --memory 256M --at-output "$ready" --to "127.0.0.1:$PORT" --bandwidth "$bw" \
      --report-json "$OUT/$w.$bw.json" >"$OUT/$w.$bw.source.out" 2>"$OUT/$w.$bw.source.err"
    echo "== $w, $bw bytes/s"
    grep -v '^hvkit: migrating' "$OUT/$w.$bw.source.err"
    wait "$target" || true
  done
done
