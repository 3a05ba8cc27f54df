/**
 * Debian's unmodified riscv64 kernel with a busybox initramfs boots under the
 * emulation strategy to the init script, which prints `uname -a`,
 * /proc/cpuinfo and BOOT-OK, then powers off — with the built-in firmware
 * and with Debian's OpenSBI. The artifacts come from `pnpm linux:fetch`
 * (and the opensbi Debian package); locally the tests skip without them, in
 * CI (CI=true) a missing artifact is a failure.
 */
import { existsSync, readFileSync } from "node:fs";
import { DEBIAN_OPENSBI_FW_DYNAMIC, linuxTranscript, readLinuxManifest } from "@hvkit/guests/node";
import { Vm } from "@hvkit/hypervisor";
import { describe, expect, it } from "vitest";
import { emulation } from "../src/index.js";

const OPENSBI = DEBIAN_OPENSBI_FW_DYNAMIC;
const manifest = readLinuxManifest();
const inCi = !!process.env.CI;
/** Debian's kernel reaches BOOT-OK in ~1.3e9 instructions; leave room. */
const MAX_STEPS = 4_000_000_000;

function boot(firmware?: Uint8Array): { output: string; stop: string; exitStatus: number | undefined } {
  if (!manifest) throw new Error("no Linux artifacts: run `pnpm linux:fetch`");
  const vm = Vm.create(emulation, {
    kernel: readFileSync(manifest.kernel.path),
    initrd: readFileSync(manifest.initramfs.path),
    cmdline: "console=ttyS0",
    memory: 512 * 1024 * 1024,
    ...(firmware ? { firmware } : {}),
  });
  const decoder = new TextDecoder();
  let output = "";
  vm.onOutput((b) => {
    output += decoder.decode(b, { stream: true });
  });
  const r = vm.run({ steps: MAX_STEPS });
  return { output, stop: r.stop, exitStatus: r.exitStatus };
}

const runs: Record<string, ReturnType<typeof boot>> = {};

describe.skipIf(!manifest && !inCi)("Debian Linux under emulation", () => {
  it("boots to BOOT-OK with the built-in firmware and powers off cleanly", () => {
    const r = boot();
    runs.builtin = r;
    expect(r.output).toContain("SBI implementation ID=0x48564b");
    expect(r.output).toMatch(/Linux \(none\) 6\.\d+\.\d+\S* .* riscv64 GNU\/Linux/);
    expect(r.output).toMatch(/isa\s+: rv64imafdc\S*_sstc/);
    expect(r.output).toContain("BOOT-OK");
    expect(r.stop).toBe("poweroff");
    expect(r.exitStatus).toBe(0);
  }, 300_000);

  it.skipIf(!existsSync(OPENSBI) && !inCi)(
    "boots to BOOT-OK with Debian's OpenSBI in M-mode",
    () => {
      const r = boot(readFileSync(OPENSBI));
      runs.opensbi = r;
      expect(r.output).toMatch(/OpenSBI v\d+\.\d+/);
      expect(r.output).toContain("BOOT-OK");
      expect(r.stop).toBe("poweroff");
      expect(r.exitStatus).toBe(0);
    },
    300_000,
  );

  it.skipIf(!existsSync(OPENSBI) && !inCi)(
    "prints the same transcript after the kernel's log under both firmwares",
    () => {
      expect(runs.builtin && runs.opensbi, "both boots ran").toBeTruthy();
      const a = linuxTranscript(runs.builtin!.output);
      const b = linuxTranscript(runs.opensbi!.output);
      expect(a).toContain("BOOT-OK");
      expect(a).toBe(b);
    },
  );
});
