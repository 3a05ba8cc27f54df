/**
 * SiFive test finisher ("sifive,test0", used as a syscon by Linux's
 * syscon-poweroff and syscon-reboot drivers and by OpenSBI's system reset).
 * A write to offset 0 with status 0x5555 powers off with success, 0x3333 with
 * failure and exit code `value >> 16`, 0x7777 resets; other values do
 * nothing. 2- and 4-byte accesses are registers (reads return 0, as on QEMU);
 * anything else is a bad access.
 */
import type { Device, Stateful } from "../device.js";

/** Size of the test device window. */
export const SYSCON_SIZE = 0x1000;
/** Status: power off, success. */
export const FINISHER_PASS = 0x5555;
/** Status: power off, failure (exit code in bits 31:16). */
export const FINISHER_FAIL = 0x3333;
/** Status: reset. */
export const FINISHER_RESET = 0x7777;

/** How the guest asked to power off. */
export interface PowerOffStatus {
  /** True for FINISHER_PASS. */
  pass: boolean;
  /** Exit code: 0 on pass, bits 31:16 of the written value on fail. */
  code: number;
}

/** Options of {@link SifiveTest}. */
export interface SifiveTestOptions {
  /** The guest powered off. */
  onPowerOff?: (status: PowerOffStatus) => void;
  /** The guest asked for a reset. */
  onReset?: () => void;
}

/** The SiFive test / syscon device. Stateless: its state is an empty object. */
export class SifiveTest implements Device, Stateful<Record<string, never>> {
  readonly name = "test";
  readonly size = SYSCON_SIZE;
  badAccesses = 0;
  private readonly onPowerOff: (status: PowerOffStatus) => void;
  private readonly onReset: () => void;

  constructor(options: SifiveTestOptions = {}) {
    this.onPowerOff = options.onPowerOff ?? (() => {});
    this.onReset = options.onReset ?? (() => {});
  }

  read(_offset: number, size: 1 | 2 | 4 | 8): number {
    if (size === 2 || size === 4) return 0;
    this.badAccesses++;
    return 0;
  }

  write(offset: number, size: 1 | 2 | 4 | 8, lo: number, _hi: number): void {
    if (size !== 2 && size !== 4) {
      this.badAccesses++;
      return;
    }
    if (offset !== 0) return;
    const status = lo & 0xffff;
    if (status === FINISHER_PASS) this.onPowerOff({ pass: true, code: 0 });
    else if (status === FINISHER_FAIL) this.onPowerOff({ pass: false, code: size === 4 ? lo >>> 16 : 0 });
    else if (status === FINISHER_RESET) this.onReset();
  }

  getState(): Record<string, never> {
    return {};
  }

  setState(): void {}
}
