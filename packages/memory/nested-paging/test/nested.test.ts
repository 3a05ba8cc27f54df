/**
 * The G-stage tables on the hart itself: a guest in VS-mode (vsatp Bare, so
 * every guest access is one G-stage translation) reaches its RAM and nothing
 * else — a device page or the VMM's pool is a guest-page fault (or an MMIO
 * exit where the VMM selected one) — for Sv39x4 and Sv48x4, 4 KiB pages and
 * 2 MiB megapages; the hart's walk counters show the levels each
 * translation walks; single-page windows onto a device map and unmap
 * cleanly; bad pools and options are refused.
 */
import { Cause, CsrSlot, ExitReason, GuestStat, type Hart, PRV_S, writeCsr } from "@hvkit/cpu";
import { assemble } from "@hvkit/isa";
import { VIRT_MEMORY_MAP, VirtBoard } from "@hvkit/machine";
import { describe, expect, it } from "vitest";
import { type GStageMode, type GStagePageSize, NestedPageTables } from "../src/index.js";

const MIB = 1024 * 1024;
const RAM = 0x8000_0000;
const RAM_SIZE = 4 * MIB;
const POOL = RAM + RAM_SIZE;
const UART = VIRT_MEMORY_MAP.uart0.base;

interface Setup {
  board: VirtBoard;
  hart: Hart;
  nested: NestedPageTables;
}

function setup(mode: GStageMode = "sv39x4", pageSize: GStagePageSize = "4k"): Setup {
  const poolBytes = NestedPageTables.poolBytes(RAM_SIZE, { mode, pageSize });
  const board = new VirtBoard({ ramSize: RAM_SIZE, hiddenRamSize: poolBytes + 2 * MIB, hypervisor: true });
  const hart = board.hart;
  writeCsr(hart, 0x3b0, -1, 0x3fffff); // PMP: everything, as the built-in firmware leaves it
  writeCsr(hart, 0x3a0, 0x1f, 0);
  // `ld t0, 0(t1)` then `sd t0, 8(t1)` at the start of RAM.
  board.ram.set(assemble("ld t0, 0(t1)\nsd t0, 8(t1)\n", { base: BigInt(RAM) }).bytes, 0);
  const nested = new NestedPageTables({
    hart,
    guestRamSize: RAM_SIZE,
    poolBase: POOL,
    poolBytes,
    mode,
    pageSize,
  });
  nested.activate();
  hart.guestExits.exceptions = (1 << 20) | (1 << 21) | (1 << 23);
  return { board, hart, nested };
}

/** Run `ld t0, 0(t1)` (or the store after it) in VS-mode with t1 = `gpa`; the exit reason. */
function access(s: Setup, gpa: number, store = false): number {
  const h = s.hart;
  h.setMode(PRV_S, 1);
  h.setX(6, BigInt(gpa));
  h.setPc(BigInt(store ? RAM + 4 : RAM));
  return h.run(1);
}

describe("nested page tables", () => {
  for (const [mode, pageSize, levels] of [
    ["sv39x4", "4k", 3],
    ["sv39x4", "2m", 2],
    ["sv48x4", "4k", 4],
    ["sv48x4", "2m", 3],
  ] as const) {
    it(`${mode} with ${pageSize} leaves: the guest reaches its RAM and nothing else, ${levels} steps a translation`, () => {
      const s = setup(mode, pageSize);
      const { hart, nested, board } = s;
      expect(nested.levels).toBe(levels);
      expect(nested.check()).toBeUndefined();
      expect(nested.translate(RAM + 0x1234, 0)).toBe(RAM + 0x1234);
      expect(nested.translate(RAM + RAM_SIZE - 8, 0)).toBe(RAM + RAM_SIZE - 8);
      for (const hole of [POOL, POOL + 0x5000, UART, 0, RAM - 4096])
        expect(nested.translate(hole, 0)).toBe(-1);
      expect(nested.translate(RAM, 1)).toBe(-1);
      expect(hart.csr[CsrSlot.HGATP + 1]! >>> 28).toBe(mode === "sv39x4" ? 8 : 9);

      // RAM: the load completes, and each translation walks `levels` G-stage entries.
      new DataView(board.ram.buffer, board.ram.byteOffset).setBigUint64(0x10000, 0x1122334455667788n, true);
      const g = hart.guestStats;
      const steps = g[GuestStat.WALK_STEPS]!;
      const walks = g[GuestStat.WALKS]!;
      expect(access(s, RAM + 0x10000)).toBe(ExitReason.BUDGET);
      expect(hart.getX(5)).toBe(0x1122334455667788n);
      expect(g[GuestStat.WALK_STEPS]! - steps).toBe(levels * (g[GuestStat.WALKS]! - walks));
      expect(g[GuestStat.WALKS]! - walks).toBeGreaterThan(0);

      // The VMM's pool (these very tables), a device and beyond 4 GiB: guest-page faults.
      for (const gpa of [POOL, POOL + RAM_SIZE, UART]) {
        expect(access(s, gpa), `0x${gpa.toString(16)}`).toBe(ExitReason.TRAP);
        expect(hart.exit.cause).toBe(Cause.LOAD_GUEST_PAGE_FAULT);
        expect(Number(hart.exit.gpa)).toBe(gpa);
        expect(access(s, gpa, true)).toBe(ExitReason.TRAP);
        expect(hart.exit.cause).toBe(Cause.STORE_GUEST_PAGE_FAULT);
      }
      // Selected as MMIO, the device page exits with what a VMM needs to emulate the load
      // (an aligned one: a misaligned access is done bytewise and stays a guest-page fault).
      hart.guestExits.addMmio(UART, 4096);
      expect(access(s, UART + 8)).toBe(ExitReason.MMIO);
      expect(hart.exit.size).toBe(8);
      expect(hart.exit.rd).toBe(5);
      expect(Number(hart.exit.gpa)).toBe(UART + 8);
      expect(access(s, UART + 5)).toBe(ExitReason.TRAP);
    });
  }

  it("opens and closes single-page windows onto devices, freeing the tables it needed", () => {
    const s = setup();
    const { hart, nested, board } = s;
    const base = nested.stats.tablePages;
    expect(access(s, UART + 5)).toBe(ExitReason.TRAP);
    expect(nested.map(UART, UART)).toBe(true);
    expect(nested.stats.tablePages).toBe(base + 2); // a table per level below the root
    expect(nested.check()).toBeUndefined();
    // The UART's line status register (offset 5): transmitter empty and idle.
    expect(access(s, UART + 5)).toBe(ExitReason.BUDGET);
    expect(Number(hart.getX(5) & 0xffn)).toBe(0x60);
    expect(board.counters().devices.uart0!.reads).toBeGreaterThan(0);
    expect(nested.unmap(UART)).toBe(true);
    expect(nested.unmap(UART)).toBe(false);
    expect(nested.stats.tablePages).toBe(base);
    expect(nested.stats.windowsOpen).toBe(0);
    expect(nested.check()).toBeUndefined();
    expect(access(s, UART + 5)).toBe(ExitReason.TRAP);
    // Two windows in one 2 MiB region share their tables, which outlive the first.
    nested.map(UART, UART);
    nested.map(UART + 0x1000, UART + 0x1000);
    expect(nested.stats.tablePages).toBe(base + 2);
    nested.unmap(UART);
    expect(nested.stats.tablePages).toBe(base + 2);
    nested.unmap(UART + 0x1000);
    expect(nested.stats.tablePages).toBe(base);
    // Guest RAM and the VMM's RAM are never windows.
    expect(() => nested.map(RAM, RAM)).toThrow(RangeError);
    expect(() => nested.map(UART, POOL)).toThrow(RangeError);
    expect(() => nested.map(POOL, POOL)).toThrow(RangeError);
    expect(() => nested.unmap(RAM)).toThrow(RangeError);
  });

  it("turns off and on (hgatp Bare and back), flushing the guest TLB", () => {
    const s = setup();
    expect(s.nested.active).toBe(true);
    s.nested.deactivate();
    expect(s.nested.active).toBe(false);
    expect(s.hart.csr[CsrSlot.HGATP + 1]).toBe(0);
    // Bare: guest-physical is host-physical, the pool included (why a VMM never runs a guest so).
    expect(access(s, POOL)).toBe(ExitReason.BUDGET);
    s.nested.activate();
    expect(access(s, POOL)).toBe(ExitReason.TRAP);
    expect(s.nested.stats.hgatpWrites).toBe(3);
  });

  it("refuses bad pools and options", () => {
    const board = new VirtBoard({ ramSize: RAM_SIZE, hiddenRamSize: 4 * MIB, hypervisor: true });
    const hart = board.hart;
    const need = NestedPageTables.poolBytes(RAM_SIZE);
    const make = (o: Partial<ConstructorParameters<typeof NestedPageTables>[0]>) =>
      new NestedPageTables({ hart, guestRamSize: RAM_SIZE, poolBase: POOL, poolBytes: need, ...o });
    expect(() => make({})).not.toThrow();
    expect(() => make({ poolBase: RAM })).toThrow(/above guest RAM/);
    expect(() => make({ poolBase: POOL + 4096 })).toThrow(/16 KiB-aligned/);
    expect(() => make({ poolBytes: need - 4096 })).toThrow(/at least/);
    expect(() => make({ poolBytes: 8 * MIB })).toThrow(/inside the hart's RAM/);
    expect(() => make({ guestRamSize: RAM_SIZE + 4096, pageSize: "2m" })).toThrow(/multiple of 2097152/);
    expect(() => make({ mode: "sv57x4" as GStageMode })).toThrow(/mode/);
    expect(() => make({ vmid: 1 << 14 })).toThrow(/vmid/);
    // The VMID goes into hgatp.
    expect(make({ vmid: 5 }).hgatpHi & 0x03ffffff).toBe(5 << 12);
  });
});
