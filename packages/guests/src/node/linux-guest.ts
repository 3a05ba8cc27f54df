/**
 * Debian's Linux as a guest of the hypervisor contract suite
 * (`@hvkit/hypervisor/testing`): the cached kernel and busybox initramfs
 * from `pnpm linux:fetch`, booted to the init script, which prints
 * `uname -a`, /proc/cpuinfo and BOOT-OK and powers off.
 *
 * Strategies are compared on what the init script printed (the transcript
 * after "Run /init", without kernel log lines): the kernel's own log carries
 * timestamps and measured ratios that legitimately differ between strategies.
 */
import { existsSync, readFileSync } from "node:fs";
import { readLinuxManifest } from "./linux-fetch.js";

/** Where Debian's opensbi package installs the generic fw_dynamic firmware. */
export const DEBIAN_OPENSBI_FW_DYNAMIC = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin";

/** Debian's kernel reaches BOOT-OK in about 1.3e9 instructions under emulation; leave room for slower strategies. */
export const LINUX_MAX_STEPS = 6_000_000_000;

/** What the init script printed: the lines after "Run /init" that are not kernel log lines. */
export function linuxTranscript(output: string): string {
  const at = output.indexOf("Run /init as init process");
  if (at < 0) return "";
  return output
    .slice(at)
    .split(/\r?\n/)
    .slice(1)
    .filter((line) => !/^\[\s*\d+\.\d+\]/.test(line))
    .join("\n");
}

/** Options of {@link linuxContractGuest}. */
export interface LinuxGuestOptions {
  /** Boot through this OpenSBI image instead of the built-in firmware ("debian": Debian's fw_dynamic.bin). */
  firmware?: "builtin" | "debian" | string;
  /** Cache directory of `pnpm linux:fetch` (default: the standard one). */
  cacheDir?: string;
  /** Guest RAM in bytes (default 512 MiB). */
  memory?: number;
}

/**
 * A contract-suite guest (structurally a `ContractGuest`) that boots the
 * cached Debian kernel. It skips itself when the artifacts are missing,
 * except in CI (CI=true), where their absence is a failure of the setup.
 */
export function linuxContractGuest(options: LinuxGuestOptions = {}) {
  const manifest = readLinuxManifest(options.cacheDir);
  const fw = options.firmware ?? "builtin";
  const firmwarePath = fw === "builtin" ? undefined : fw === "debian" ? DEBIAN_OPENSBI_FW_DYNAMIC : fw;
  return {
    name: `Debian Linux ${manifest?.kernel.release ?? "(not fetched)"} + busybox, ${firmwarePath ? "OpenSBI" : "built-in SBI"}`,
    maxSteps: LINUX_MAX_STEPS,
    expect: { output: /BOOT-OK/, exitStatus: 0 },
    config() {
      if (!manifest) throw new Error("no Linux artifacts: run `pnpm linux:fetch` (or `pnpm setup:guests`)");
      return {
        kernel: readFileSync(manifest.kernel.path),
        initrd: readFileSync(manifest.initramfs.path),
        cmdline: "console=ttyS0",
        memory: options.memory ?? 512 * 1024 * 1024,
        ...(firmwarePath ? { firmware: readFileSync(firmwarePath) } : {}),
      };
    },
    normalize: linuxTranscript,
    skip(): string | false {
      if (process.env.CI) return false;
      if (!manifest) return "Linux artifacts not fetched (pnpm linux:fetch)";
      if (firmwarePath && !existsSync(firmwarePath))
        return `no firmware at ${firmwarePath} (apt-get install opensbi)`;
      return false;
    },
  };
}
