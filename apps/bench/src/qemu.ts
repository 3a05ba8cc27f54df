/**
 * QEMU's boot of the same Debian kernel and initramfs, measured in the same
 * run with `pnpm bench:boot`'s implementation (benchmarks/src/boot/qemu.ts):
 * plain TCG for the time to BOOT-OK, and a second boot with `-icount
 * shift=0` whose instruction count is read over QMP when BOOT-OK appears.
 */
import {
  bootQemu,
  QEMU_BINARY,
  QEMU_INSTALL_HINT,
  qemuArgs,
  qemuVersion,
} from "../../../benchmarks/src/boot/qemu.js";
import { LINUX_CMDLINE, LINUX_MEMORY } from "./measure.js";
import type { QemuResult } from "./schema.js";
import { spread } from "./stats.js";

export { QEMU_BINARY };

/** What to boot. */
export interface QemuBenchOptions {
  binary?: string;
  kernelPath: string;
  initrdPath: string;
  repetitions: number;
  timeoutMs: number;
  progress?: (line: string) => void;
}

/** Boot under QEMU (TCG, then -icount) `repetitions` times each; a missing QEMU is reported, not an error. */
export async function benchQemu(o: QemuBenchOptions): Promise<QemuResult> {
  const binary = o.binary ?? QEMU_BINARY;
  const version = qemuVersion(binary);
  if (!version) return { available: false, binary, installHint: QEMU_INSTALL_HINT };
  const base = {
    binary,
    kernelPath: o.kernelPath,
    initrdPath: o.initrdPath,
    cmdline: LINUX_CMDLINE,
    memoryMiB: LINUX_MEMORY / (1024 * 1024),
    timeoutMs: o.timeoutMs,
  };
  const command = [binary, ...qemuArgs({ ...base, icount: false, label: "" })]
    .map((a) => (/[\s"'$]/.test(a) ? JSON.stringify(a) : a))
    .join(" ");
  try {
    const tcg = [];
    const icount = [];
    for (let i = 1; i <= o.repetitions; i++) {
      o.progress?.(`QEMU TCG boot ${i}/${o.repetitions}`);
      tcg.push(await bootQemu({ ...base, icount: false, label: `qemu-tcg run ${i}` }));
      o.progress?.(`QEMU -icount boot ${i}/${o.repetitions}`);
      icount.push(await bootQemu({ ...base, icount: true, label: `qemu-icount run ${i}` }));
    }
    return {
      available: true,
      binary,
      version,
      command,
      tcg: {
        bootOkSeconds: spread(tcg.map((r) => r.bootOkSeconds)),
        totalSeconds: spread(tcg.map((r) => r.totalSeconds)),
      },
      icount: { instructionsAtBootOk: spread(icount.map((r) => r.instructionsAtBootOk ?? 0)) },
    };
  } catch (e) {
    return { available: true, binary, version, command, error: (e as Error).message };
  }
}
