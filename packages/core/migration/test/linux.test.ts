/**
 * Debian Linux: a snapshot taken at step N while busybox runs a counter loop,
 * restored under every strategy, prints exactly what the uninterrupted run
 * prints after N and ends at the same step; live migration of the same guest
 * in one process continues exactly too. Skips without the Linux cache
 * locally; in CI a missing cache fails.
 */
import { readFileSync } from "node:fs";
import { buildLinuxInitramfs, readLinuxManifest } from "@hvkit/guests/node";
import { Vm, type VmConfig } from "@hvkit/hypervisor";
import { describe, expect, it } from "vitest";
import { channelPair, migrate, receive } from "../src/index.js";
import { captured, runTo, runToEnd, STRATEGIES } from "./helpers.js";

const manifest = readLinuxManifest();
const inCi = !!process.env.CI;
/** Where the snapshot is taken: the counter loop is running (the boot takes ~1.23e9 steps). */
const N = 1_240_000_000;

describe.skipIf(!manifest && !inCi)("Debian Linux", () => {
  if (!manifest) {
    it("has the Linux cache", () => {
      throw new Error("no Linux artifacts in the cache: run `pnpm linux:fetch` before the tests");
    });
    return;
  }
  const script = 'i=0\nwhile [ $i -lt 300 ]; do i=$((i+1)); echo "COUNT $i"; done\necho COUNTER-DONE\n';
  const config: VmConfig = {
    kernel: new Uint8Array(readFileSync(manifest.kernel.path)),
    initrd: buildLinuxInitramfs(manifest, { script }),
    cmdline: "console=ttyS0 quiet",
    memory: 256 * 1024 * 1024,
  };
  const source = Vm.create("emulation", config);
  const sourceOut = captured(source);
  expect(runTo(source, N)).toBe("limit");
  const snap = source.snapshot();
  const before = sourceOut.text;
  expect(before).toMatch(/COUNT \d+/);
  const baseline = { out: "", steps: 0 };

  it("the uninterrupted run ends cleanly", () => {
    expect(runToEnd(source, 1e10).stop).toBe("poweroff");
    baseline.out = sourceOut.text.slice(before.length);
    baseline.steps = source.hart.cycles;
    expect(baseline.out).toContain("COUNTER-DONE");
  });

  it.each(STRATEGIES.map((s) => [s.name, s] as const))(
    "restored under %s, continues exactly",
    { timeout: 300_000 },
    (_, strategy) => {
      const vm = Vm.restore(snap, { strategy });
      const out = captured(vm);
      expect(runToEnd(vm, 1e10).stop).toBe("poweroff");
      expect(out.text).toBe(baseline.out);
      expect(vm.hart.cycles).toBe(baseline.steps);
    },
  );

  it("migrated in one process (pre-copy), continues exactly", { timeout: 300_000 }, async () => {
    const vm = Vm.restore(snap, { strategy: "trap-and-emulate" });
    const out = captured(vm);
    const [a, b] = channelPair();
    const target = receive(b, { strategy: "hardware-assisted" });
    await migrate(vm, a, { stepsPerPage: 100 });
    const { vm: moved } = await target;
    const rest = captured(moved);
    expect(runToEnd(moved, 1e10).stop).toBe("poweroff");
    expect(out.text + rest.text).toBe(baseline.out);
    expect(moved.hart.cycles).toBe(baseline.steps);
  });
});
