/**
 * The built-in SBI implementation: the supervisor binary interface served by
 * the host, entered as an exit from the hart on `ecall` from S-mode (the
 * hypercall path every strategy shares). Follows the RISC-V SBI
 * specification v2.0: BASE, TIME, IPI, RFENCE, HSM, SRST, DBCN, PMU and the
 * legacy extensions (0x00-0x08).
 *
 * Calling convention (SBI 3.1): a7 = extension ID, a6 = function ID,
 * a0..a5 = arguments; the result is `struct sbiret { error, value }` in
 * a0/a1. Legacy calls return a single value in a0.
 */

import { type Hart, writeCsr } from "@hvkit/cpu";
import { CSR } from "@hvkit/isa";

/** SBI error codes (SBI spec table 1). */
export const SbiError = {
  SUCCESS: 0,
  FAILED: -1,
  NOT_SUPPORTED: -2,
  INVALID_PARAM: -3,
  DENIED: -4,
  INVALID_ADDRESS: -5,
  ALREADY_AVAILABLE: -6,
  ALREADY_STARTED: -7,
  ALREADY_STOPPED: -8,
  NO_SHMEM: -9,
} as const;

/** Extension IDs served. */
export const SbiExtension = {
  LEGACY_SET_TIMER: 0x00,
  LEGACY_CONSOLE_PUTCHAR: 0x01,
  LEGACY_CONSOLE_GETCHAR: 0x02,
  LEGACY_CLEAR_IPI: 0x03,
  LEGACY_SEND_IPI: 0x04,
  LEGACY_REMOTE_FENCE_I: 0x05,
  LEGACY_REMOTE_SFENCE_VMA: 0x06,
  LEGACY_REMOTE_SFENCE_VMA_ASID: 0x07,
  LEGACY_SHUTDOWN: 0x08,
  BASE: 0x10,
  TIME: 0x54494d45,
  IPI: 0x735049,
  RFENCE: 0x52464e43,
  HSM: 0x48534d,
  SRST: 0x53525354,
  DBCN: 0x4442434e,
  PMU: 0x504d55,
} as const;

/**
 * The PMU extension's counters: the three fixed hardware counters of Zicntr,
 * by index (counter_idx = CSR number - 0xc00, as the spec's counter_info
 * describes them). There are no programmable hpmcounters and no firmware
 * counters. mcountinhibit is read-only zero on this hart, so a counter always
 * counts: "started" and "stopped" are the SBI's bookkeeping, and a supervisor
 * reads deltas (Linux's perf reads the counter on start and on stop).
 */
const PMU_COUNTERS = 3;
const PMU_CYCLE = 0;
const PMU_INSTRET = 2;
/** counter_info of a 64-bit hardware counter: csr in [11:0], width - 1 in [17:12], type 0 (hardware). */
const PMU_HW_INFO_WIDTH = 63 << 12;
/** Hardware general events (event type 0): the codes the fixed counters count. */
const PMU_HW_CPU_CYCLES = 1;
const PMU_HW_INSTRUCTIONS = 2;
/** counter_config_matching flags. */
const PMU_CFG_SKIP_MATCH = 1 << 0;
const PMU_CFG_CLEAR_VALUE = 1 << 1;
const PMU_CFG_AUTO_START = 1 << 2;
/** counter_start flag: set the counter to initial_value first. */
const PMU_START_INIT_VALUE = 1 << 0;
/** counter_stop flag: the counter is released (no longer configured). */
const PMU_STOP_RESET = 1 << 0;

/** SBI specification version implemented: 2.0 (major << 24 | minor). */
export const SBI_SPEC_VERSION = 2 << 24;
/** Implementation ID reported by sbi_get_impl_id: not a registered one ("HVK" in ASCII). */
export const SBI_IMPL_ID = 0x48564b;
/** Implementation version. */
export const SBI_IMPL_VERSION = 0x00000100;

const EXTENSION_NAMES: Readonly<Record<number, string>> = {
  0: "legacy.set_timer",
  1: "legacy.console_putchar",
  2: "legacy.console_getchar",
  3: "legacy.clear_ipi",
  4: "legacy.send_ipi",
  5: "legacy.remote_fence_i",
  6: "legacy.remote_sfence_vma",
  7: "legacy.remote_sfence_vma_asid",
  8: "legacy.shutdown",
  [SbiExtension.BASE]: "base",
  [SbiExtension.TIME]: "time",
  [SbiExtension.IPI]: "ipi",
  [SbiExtension.RFENCE]: "rfence",
  [SbiExtension.HSM]: "hsm",
  [SbiExtension.SRST]: "srst",
  [SbiExtension.DBCN]: "dbcn",
  [SbiExtension.PMU]: "pmu",
};

const FUNCTION_NAMES: Readonly<Record<number, readonly string[]>> = {
  [SbiExtension.BASE]: [
    "get_spec_version",
    "get_impl_id",
    "get_impl_version",
    "probe_extension",
    "get_mvendorid",
    "get_marchid",
    "get_mimpid",
  ],
  [SbiExtension.TIME]: ["set_timer"],
  [SbiExtension.IPI]: ["send_ipi"],
  [SbiExtension.RFENCE]: ["remote_fence_i", "remote_sfence_vma", "remote_sfence_vma_asid"],
  [SbiExtension.HSM]: ["hart_start", "hart_stop", "hart_get_status", "hart_suspend"],
  [SbiExtension.SRST]: ["system_reset"],
  [SbiExtension.DBCN]: ["console_write", "console_read", "console_write_byte"],
  [SbiExtension.PMU]: [
    "num_counters",
    "counter_get_info",
    "counter_config_matching",
    "counter_start",
    "counter_stop",
    "counter_fw_read",
    "counter_fw_read_hi",
    "snapshot_set_shmem",
  ],
};

/** What the SBI needs from the VMM. */
export interface SbiHost {
  /** The calling hart. */
  readonly hart: Hart;
  /** Bytes [pa, pa+length) of guest RAM, or undefined when the range is not all RAM. */
  readRam(pa: number, length: number): Uint8Array | undefined;
  /** Write bytes into guest RAM at pa; false when the range is not all RAM. */
  writeRam(pa: number, bytes: Uint8Array): boolean;
  /** Send bytes to the console. */
  consoleWrite(bytes: Uint8Array): void;
  /** Take up to `max` bytes of pending console input. */
  consoleRead(max: number): Uint8Array;
  /** Arm the supervisor timer at time `ticks` (clears a pending STIP); Infinity disarms it. */
  setTimer(ticks: number): void;
  /** Raise the supervisor software interrupt (SSIP) on the hart. */
  sendIpi(): void;
  /** A remote sfence.vma / fence.i reached this (the only) hart: drop cached translations. */
  remoteFence(): void;
  /** System reset: type 0 shutdown, 1 cold reboot, 2 warm reboot; reason 0 none, 1 system failure. */
  systemReset(type: number, reason: number): void;
  /** The hart suspends (HSM default retentive suspend): behaves like WFI. */
  suspend(): void;
}

/** What a call did, for the VMM: most calls just return to the guest. */
export const SbiOutcome = {
  /** Resume the guest after the ecall. */
  CONTINUE: 0,
  /** The guest asked to power off or reset: the VMM stops the VM. */
  RESET: 1,
  /** The hart suspended: resume it when an interrupt is pending. */
  SUSPEND: 2,
} as const;

const TWO32 = 4294967296;

/** The built-in SBI: one per VM. */
export class SbiService {
  /** Calls counted by eid * 1024 + fid (named on demand by {@link calls}: no allocation per call). */
  private readonly counts = new Map<number, number>();
  /** Calls to extensions or functions not implemented (answered NOT_SUPPORTED). */
  unsupported = 0;
  /** PMU counters configured for an event (bit i: counter i), and those started. */
  pmuConfigured = 0;
  pmuStarted = 0;

  constructor(private readonly host: SbiHost) {}

  /** Calls so far by "extension.function" name. */
  calls(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [key, n] of this.counts) {
      const name = SbiService.callName(Math.floor(key / 1024), key % 1024);
      out[name] = (out[name] ?? 0) + n;
    }
    return out;
  }

  /** The name of a call, as reported by {@link calls}. */
  static callName(eid: number, fid: number): string {
    const ext = EXTENSION_NAMES[eid];
    if (ext === undefined) return `0x${(eid >>> 0).toString(16)}.${fid}`;
    if (eid < 0x10) return ext;
    return `${ext}.${FUNCTION_NAMES[eid]?.[fid] ?? fid}`;
  }

  /** Whether an extension is available (sbi_probe_extension). */
  static probe(eid: number): boolean {
    return eid in EXTENSION_NAMES;
  }

  /**
   * Serve the ecall whose arguments are in the hart's registers. The caller
   * advances the pc past the ecall. Returns an {@link SbiOutcome}.
   */
  handle(): number {
    const x = this.host.hart.x;
    const eid = x[2 * 17]! >>> 0;
    const fid = x[2 * 16]! >>> 0;
    const key = eid * 1024 + Math.min(fid, 1023);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    if (eid < 0x10) return this.legacy(eid);
    let error: number = SbiError.SUCCESS;
    let value = 0;
    let outcome: number = SbiOutcome.CONTINUE;
    switch (eid) {
      case SbiExtension.BASE:
        switch (fid) {
          case 0:
            value = SBI_SPEC_VERSION;
            break;
          case 1:
            value = SBI_IMPL_ID;
            break;
          case 2:
            value = SBI_IMPL_VERSION;
            break;
          case 3:
            value = SbiService.probe(this.arg(0)) ? 1 : 0;
            break;
          case 4:
          case 5:
          case 6:
            value = 0; // mvendorid, marchid, mimpid of the hart
            break;
          default:
            error = SbiError.NOT_SUPPORTED;
        }
        break;
      case SbiExtension.TIME:
        if (fid === 0) this.host.setTimer(this.arg(0));
        else error = SbiError.NOT_SUPPORTED;
        break;
      case SbiExtension.IPI:
        if (fid === 0) {
          if (this.maskIncludesHart0(this.arg(0), this.arg(1))) this.host.sendIpi();
        } else error = SbiError.NOT_SUPPORTED;
        break;
      case SbiExtension.RFENCE:
        if (fid <= 2) {
          // One hart: a remote fence is a local one.
          if (this.maskIncludesHart0(this.arg(0), this.arg(1))) this.host.remoteFence();
        } else error = SbiError.NOT_SUPPORTED; // hfence variants need the H extension
        break;
      case SbiExtension.HSM:
        switch (fid) {
          case 0: // hart_start: hart 0 is already running; there are no others
            error = this.arg(0) === 0 ? SbiError.ALREADY_AVAILABLE : SbiError.INVALID_PARAM;
            break;
          case 1: // hart_stop: stopping the only hart stops the machine
            this.host.systemReset(0, 0);
            outcome = SbiOutcome.RESET;
            break;
          case 2:
            if (this.arg(0) === 0)
              value = 0; // STARTED
            else error = SbiError.INVALID_PARAM;
            break;
          case 3: {
            const type = this.argLo(0);
            if (type === 0) {
              this.host.suspend();
              outcome = SbiOutcome.SUSPEND;
            } else error = type < 0x10000000 ? SbiError.INVALID_PARAM : SbiError.NOT_SUPPORTED;
            break;
          }
          default:
            error = SbiError.NOT_SUPPORTED;
        }
        break;
      case SbiExtension.SRST:
        if (fid === 0) {
          const type = this.argLo(0);
          const reason = this.argLo(1);
          if (type > 2 || reason > 1) error = SbiError.INVALID_PARAM;
          else {
            this.host.systemReset(type, reason);
            outcome = SbiOutcome.RESET;
          }
        } else error = SbiError.NOT_SUPPORTED;
        break;
      case SbiExtension.DBCN:
        switch (fid) {
          case 0: {
            const n = this.arg(0);
            const pa = this.arg(1) + this.arg(2) * TWO32;
            const bytes = n <= 0x100000 ? this.host.readRam(pa, n) : undefined;
            if (!bytes) error = SbiError.INVALID_PARAM;
            else {
              this.host.consoleWrite(bytes);
              value = n;
            }
            break;
          }
          case 1: {
            const n = Math.min(this.arg(0), 0x100000);
            const pa = this.arg(1) + this.arg(2) * TWO32;
            if (!this.host.readRam(pa, n)) error = SbiError.INVALID_PARAM;
            else {
              const input = this.host.consoleRead(n);
              this.host.writeRam(pa, input);
              value = input.length;
            }
            break;
          }
          case 2:
            this.host.consoleWrite(Uint8Array.of(this.argLo(0) & 0xff));
            break;
          default:
            error = SbiError.NOT_SUPPORTED;
        }
        break;
      case SbiExtension.PMU: {
        const r = this.pmu(fid);
        if (r < 0) error = r;
        else value = r;
        break;
      }
      default:
        error = SbiError.NOT_SUPPORTED;
    }
    if (error === SbiError.NOT_SUPPORTED) this.unsupported++;
    setReg(x, 10, error);
    setReg(x, 11, value);
    return outcome;
  }

  /**
   * The PMU extension (SBI spec chapter 11) over the fixed counters: returns
   * the call's value, or an SbiError (negative). Supervisors need it for
   * more than perf: Linux grants its programs the time CSR (scounteren.TM,
   * which the vDSO's clock_gettime reads) only from its SBI PMU driver.
   */
  private pmu(fid: number): number {
    switch (fid) {
      case 0: // num_counters
        return PMU_COUNTERS;
      case 1: {
        // counter_get_info
        const idx = this.arg(0);
        return idx < PMU_COUNTERS ? PMU_HW_INFO_WIDTH | (CSR.cycle + idx) : SbiError.INVALID_PARAM;
      }
      case 2: {
        // counter_config_matching(counter_idx_base, counter_idx_mask, config_flags, event_idx, event_data)
        const mask = this.pmuMask(this.arg(0), this.arg(1));
        if (mask < 0) return SbiError.INVALID_PARAM;
        const flags = this.argLo(2);
        let idx: number;
        if (flags & PMU_CFG_SKIP_MATCH) {
          // The caller names the counter it configured before: the first of the set.
          idx = 31 - Math.clz32(mask & -mask);
          if (mask === 0 || (this.pmuConfigured & (1 << idx)) === 0) return SbiError.INVALID_PARAM;
        } else {
          const event = this.argLo(3);
          const type = (event >>> 16) & 0xf;
          const code = event & 0xffff;
          idx =
            type !== 0
              ? -1
              : code === PMU_HW_CPU_CYCLES
                ? PMU_CYCLE
                : code === PMU_HW_INSTRUCTIONS
                  ? PMU_INSTRET
                  : -1;
          // An event no counter counts, or whose counter is outside the set or taken.
          if (idx < 0 || (mask & (1 << idx)) === 0 || this.pmuConfigured & (1 << idx))
            return SbiError.NOT_SUPPORTED;
          this.pmuConfigured |= 1 << idx;
        }
        if (flags & PMU_CFG_CLEAR_VALUE) this.pmuSetCounter(idx, 0, 0);
        if (flags & PMU_CFG_AUTO_START) this.pmuStarted |= 1 << idx;
        // The mode-inhibit flags (SINH, UINH, ...) are accepted; the fixed counters count in every mode.
        return idx;
      }
      case 3: {
        // counter_start(counter_idx_base, counter_idx_mask, start_flags, initial_value)
        const mask = this.pmuMask(this.arg(0), this.arg(1));
        if (mask < 0 || (mask & ~this.pmuConfigured) !== 0) return SbiError.INVALID_PARAM;
        if (mask & this.pmuStarted) return SbiError.ALREADY_STARTED;
        if (this.argLo(2) & PMU_START_INIT_VALUE) {
          const x = this.host.hart.x;
          for (let i = 0; i < PMU_COUNTERS; i++)
            if (mask & (1 << i)) this.pmuSetCounter(i, x[2 * 13]!, x[2 * 13 + 1]!);
        }
        this.pmuStarted |= mask;
        return 0;
      }
      case 4: {
        // counter_stop(counter_idx_base, counter_idx_mask, stop_flags)
        const mask = this.pmuMask(this.arg(0), this.arg(1));
        if (mask < 0 || (mask & ~this.pmuConfigured) !== 0) return SbiError.INVALID_PARAM;
        const wasStopped = (mask & ~this.pmuStarted) !== 0;
        this.pmuStarted &= ~mask;
        // RESET releases the counters even when they were not running (Linux probes its events so).
        if (this.argLo(2) & PMU_STOP_RESET) this.pmuConfigured &= ~mask;
        return wasStopped ? SbiError.ALREADY_STOPPED : 0;
      }
      case 5:
      case 6:
        // counter_fw_read(_hi): there are no firmware counters.
        return SbiError.INVALID_PARAM;
      default:
        // snapshot_set_shmem and anything newer: the optional snapshot is not offered.
        return SbiError.NOT_SUPPORTED;
    }
  }

  /** The counters (base, mask) selects as a bit mask of valid indices, or -1 when it names another. */
  private pmuMask(base: number, mask: number): number {
    const m = mask * 2 ** base;
    return m > (1 << PMU_COUNTERS) - 1 ? -1 : m;
  }

  /**
   * Set a fixed counter through its machine-level CSR so that it reads
   * `value` right after the call (time is read-only: left alone). A CSR
   * instruction's own retirement follows its write, which writeCsr models;
   * the SBI call is not an instruction retiring, hence value + 1.
   */
  private pmuSetCounter(idx: number, lo: number, hi: number): void {
    const lo1 = (lo + 1) | 0;
    const hi1 = lo1 === 0 ? (hi + 1) | 0 : hi;
    if (idx === PMU_CYCLE) writeCsr(this.host.hart, CSR.mcycle, lo1, hi1);
    else if (idx === PMU_INSTRET) writeCsr(this.host.hart, CSR.minstret, lo1, hi1);
  }

  /** Argument register a<i> as an unsigned number (exact below 2^53). */
  private arg(i: number): number {
    const x = this.host.hart.x;
    return (x[2 * (10 + i) + 1]! >>> 0) * TWO32 + (x[2 * (10 + i)]! >>> 0);
  }

  /** Low 32 bits of argument register a<i>. */
  private argLo(i: number): number {
    return this.host.hart.x[2 * (10 + i)]! >>> 0;
  }

  private legacy(eid: number): number {
    const x = this.host.hart.x;
    const a0 = (x[2 * 10 + 1]! >>> 0) * TWO32 + (x[2 * 10]! >>> 0);
    switch (eid) {
      case SbiExtension.LEGACY_SET_TIMER:
        this.host.setTimer(a0);
        setReg(x, 10, 0);
        return SbiOutcome.CONTINUE;
      case SbiExtension.LEGACY_CONSOLE_PUTCHAR:
        this.host.consoleWrite(Uint8Array.of(x[2 * 10]! & 0xff));
        setReg(x, 10, 0);
        return SbiOutcome.CONTINUE;
      case SbiExtension.LEGACY_CONSOLE_GETCHAR: {
        const b = this.host.consoleRead(1);
        setReg(x, 10, b.length ? b[0]! : -1);
        return SbiOutcome.CONTINUE;
      }
      case SbiExtension.LEGACY_CLEAR_IPI:
        setReg(x, 10, 0);
        return SbiOutcome.CONTINUE;
      case SbiExtension.LEGACY_SEND_IPI:
        this.host.sendIpi();
        setReg(x, 10, 0);
        return SbiOutcome.CONTINUE;
      case SbiExtension.LEGACY_REMOTE_FENCE_I:
      case SbiExtension.LEGACY_REMOTE_SFENCE_VMA:
      case SbiExtension.LEGACY_REMOTE_SFENCE_VMA_ASID:
        this.host.remoteFence();
        setReg(x, 10, 0);
        return SbiOutcome.CONTINUE;
      case SbiExtension.LEGACY_SHUTDOWN:
        this.host.systemReset(0, 0);
        return SbiOutcome.RESET;
      default:
        this.unsupported++;
        setReg(x, 10, SbiError.NOT_SUPPORTED);
        return SbiOutcome.CONTINUE;
    }
  }

  /** Whether an SBI hart mask (mask, base) selects hart 0; base -1 means all harts. */
  private maskIncludesHart0(mask: number, base: number): boolean {
    if (base === 2 ** 64 - 1 || base >= 2 ** 63) return true; // -1: all harts
    return base === 0 && mask % 2 === 1;
  }
}

function setReg(x: Int32Array, r: number, v: number): void {
  x[2 * r] = v | 0;
  x[2 * r + 1] = v < 0 ? -1 : Math.floor(v / TWO32) | 0;
}
