/**
 * Issue 12's acceptance test: a running Debian Linux guest (busybox running a
 * loop that prints a counter) is live-migrated between two hvkit processes on
 * loopback (`hvkit migrate --to` and `hvkit receive --listen`), and the
 * counter continues on the target without a gap or a repeat. Locally the
 * test skips when the Linux cache is empty; in CI a missing cache fails.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildLinuxInitramfs, readLinuxManifest } from "@hvkit/guests/node";
import { describe, expect, it } from "vitest";
import { hvkit, until } from "./processes.js";

const manifest = readLinuxManifest();
const inCi = !!process.env.CI;
const COUNT = 2000;
const SCRIPT = `i=0
while [ $i -lt ${COUNT} ]; do
  i=$((i+1))
  echo "COUNT $i"
done
echo COUNTER-DONE
`;

const counts = (text: string): number[] => [...text.matchAll(/^COUNT (\d+)\r?$/gm)].map((m) => Number(m[1]));

describe.skipIf(!manifest && !inCi)(
  "live migration of a running Debian guest between two hvkit processes",
  () => {
    it("the counter continues on the target without a gap or a repeat", { timeout: 600_000 }, async () => {
      if (!manifest)
        throw new Error("no Linux artifacts in the cache: run `pnpm linux:fetch` before the tests");
      const dir = mkdtempSync(join(tmpdir(), "hvkit-migrate-"));
      const initrd = join(dir, "counter.cpio.gz");
      writeFileSync(initrd, buildLinuxInitramfs(manifest, { script: SCRIPT }));
      const target = hvkit(["receive", "--listen", "0", "--host", "127.0.0.1"]);
      try {
        await until(() => /port (\d+)/.test(target.stderr), 60_000, "the receiver to listen", 100);
        const port = /port (\d+)/.exec(target.stderr)![1]!;
        const report = join(dir, "report.json");
        const source = hvkit([
          "migrate",
          "--kernel",
          manifest.kernel.path,
          "--initrd",
          initrd,
          "--append",
          "console=ttyS0 quiet",
          "--memory",
          "256M",
          "--at-output",
          "COUNT 100",
          "--to",
          `127.0.0.1:${port}`,
          "--report-json",
          report,
        ]);
        expect(await source.done, source.stderr).toBe(0);
        expect(source.stderr).toMatch(/hvkit: migrated /);
        expect(await target.done, target.stderr).toBe(0);

        const before = counts(source.stdout);
        const after = counts(target.stdout);
        // Both sides printed part of it: the guest ran on the source, then on the target.
        expect(before.length).toBeGreaterThanOrEqual(100);
        expect(after.length).toBeGreaterThan(0);
        expect([...before, ...after]).toEqual(Array.from({ length: COUNT }, (_, i) => i + 1));
        expect(target.stdout).toContain("COUNTER-DONE");
        expect(target.stdout).toContain("EXIT-STATUS=0");
        const r = JSON.parse(readFileSync(report, "utf8")) as { rounds: unknown[]; downtimeMs: number };
        expect(r.rounds.length).toBeGreaterThanOrEqual(1);
        expect(r.downtimeMs).toBeGreaterThan(0);
      } finally {
        target.child.kill();
      }
    });
  },
);
