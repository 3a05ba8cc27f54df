/**
 * Shadow tables in guest mode (`mode: "guest"`, for a hardware-assisted VMM
 * without nested paging): the guest runs in VS/VU-mode on vsatp = the
 * shadow, and the hart checks U, SUM and MXR itself. Against the hart's own
 * two-stage MMU on the guest's tables (hgatp Bare), for every kind of leaf
 * (R/W/X combinations, U or not, A and D set or not, a megapage) and every
 * access (load or store, VS or VU, SUM, MXR), made with hlv.d/hsv.d:
 *  - fill() reports the hart's fault or the page, with the same A/D updates;
 *  - after fill(), the hart on the shadow allows exactly that access, at the
 *    same physical address, and faults where the guest's tables fault;
 *  - one tree serves both privileges: no refill when the mode or SUM changes.
 */
import { Cause, CsrSlot, ExitReason, type Hart, PRV_S, PRV_U, writeCsr } from "@hvkit/cpu";
import { assemble, CSR } from "@hvkit/isa";
import { VirtBoard } from "@hvkit/machine";
import { describe, expect, it } from "vitest";
import { Access, ShadowPageTables, Walk } from "../src/index.js";

const KIB = 1024;
const RAM = 0x8000_0000;
const RAM_SIZE = 4096 * KIB;
const POOL = RAM + RAM_SIZE;
const POOL_SIZE = 256 * KIB;
const ROOT = RAM + 0x1000;
const L1 = RAM + 0x2000;
const L0 = RAM + 0x3000;
const DATA = RAM + 0x10_0000; // data pages: each word holds its own address
const SSTATUS_SUM = 1 << 18;
const SSTATUS_MXR = 1 << 19;

/** Leaf flag combinations (V set unless noted): R/W/X patterns, U, A, D. */
const FLAGS: number[] = [];
for (const rwx of [0x2, 0x6, 0x8, 0xa, 0xe, 0x4 /* W without R: reserved */]) {
  for (const u of [0, 0x10]) for (const ad of [0, 0x40, 0xc0, 0x80]) FLAGS.push(1 | rwx | u | ad);
}
FLAGS.push(0x2 | 0x10 | 0xc0); // not valid

interface Machine {
  board: VirtBoard;
  hart: Hart;
  view: DataView;
}

function machine(pool: boolean): Machine {
  const board = new VirtBoard({ ramSize: RAM_SIZE, hiddenRamSize: pool ? POOL_SIZE : 0, hypervisor: true });
  const hart = board.hart;
  writeCsr(hart, 0x3b0, -1, 0x3fffff);
  writeCsr(hart, 0x3a0, 0x1f, 0);
  board.ram.set(assemble("hlv.d t0, (t1)\nhsv.d t2, (t1)\n", { base: BigInt(RAM) }).bytes, 0);
  const view = new DataView(board.ram.buffer, board.ram.byteOffset, board.ram.length);
  // Sv39: root[0] -> L1; L1[0] -> L0 (4 KiB leaves, one per flag combination); L1[1] a megapage.
  view.setBigUint64(ROOT - RAM, (BigInt(L1 / 4096) << 10n) | 1n, true);
  view.setBigUint64(L1 - RAM, (BigInt(L0 / 4096) << 10n) | 1n, true);
  FLAGS.forEach((f, i) => {
    view.setBigUint64(L0 - RAM + 8 * i, (BigInt(DATA / 4096 + i) << 10n) | BigInt(f), true);
  });
  view.setBigUint64(L1 - RAM + 8, (BigInt(RAM / 4096) << 10n) | 0xcfn, true); // V R W X A D, not U
  for (let off = DATA - RAM; off < RAM_SIZE; off += 8) view.setBigUint64(off, BigInt(RAM + off), true);
  hart.exitOnException[PRV_S] = -1;
  return { board, hart, view };
}

/** One hlv.d (or hsv.d of 0x1234) from HS-mode as though in VS (`mode` PRV_S) or VU; the cause or the value. */
function access(m: Machine, va: number, store: boolean, mode: number, sum: boolean, mxr: boolean) {
  const h = m.hart;
  h.setMode(PRV_S, 0);
  writeCsr(h, CSR.hstatus, mode === PRV_S ? 1 << 8 : 0, 0); // SPVP
  writeCsr(h, CSR.vsstatus, (sum ? SSTATUS_SUM : 0) | (mxr ? SSTATUS_MXR : 0), 0);
  h.flushGuestTlb();
  h.setX(6, BigInt(va));
  h.setX(7, 0x1234n);
  h.setPc(BigInt(store ? RAM + 4 : RAM));
  const r = h.run(1);
  return r === ExitReason.TRAP ? { cause: h.exit.cause, value: 0n } : { cause: -1, value: h.getX(5) };
}

describe("shadow tables in guest mode, against the hart's two-stage MMU", () => {
  for (const policy of ["sfence", "write-protect"] as const) {
    it(`${policy}: the same faults, pages and A/D updates; the shadow allows exactly what the guest's tables do`, () => {
      const ref = machine(false);
      const s = machine(true);
      const snapshot = ref.board.ram.slice();
      const satpHi = 8 << 28;
      const satpLo = ROOT / 4096;
      writeCsr(ref.hart, CSR.vsatp, satpLo, satpHi);
      const shadow = new ShadowPageTables({
        hart: s.hart,
        guestRamSize: RAM_SIZE,
        poolBase: POOL,
        poolBytes: POOL_SIZE,
        policy,
        mode: "guest",
      });
      shadow.setSatp(satpLo, satpHi);
      // vsatp -> a root in the pool (Sv39 like the guest's); satp untouched.
      const root = s.hart.csr[CsrSlot.VSATP]! >>> 0;
      expect(root >= POOL / 4096 && root < (POOL + POOL_SIZE) / 4096).toBe(true);
      expect(s.hart.csr[CsrSlot.VSATP + 1]! >>> 28).toBe(8);
      expect(s.hart.csr[CsrSlot.SATP + 1]).toBe(0);
      let allowed = 0;
      const vas = [...FLAGS.keys()].map((i) => i * 4096 + 8 * (i % 7)).concat([0x20_0000 + 0x8008]);
      for (const va of vas) {
        for (const store of [false, true]) {
          for (const mode of [PRV_U, PRV_S]) {
            for (const sum of [false, true]) {
              for (const mxr of [false, true]) {
                const where = `va 0x${va.toString(16)} ${store ? "store" : "load"} ${mode ? "VS" : "VU"} sum=${sum} mxr=${mxr}`;
                ref.board.ram.set(snapshot);
                const h = access(ref, va, store, mode, sum, mxr);
                const refRam = ref.board.ram.slice(0, 0x4000);
                // Back to the guest's tables as they were, which the shadow must hear of.
                s.board.ram.set(snapshot);
                shadow.guestMemoryWritten(RAM, 0x4000);
                shadow.sfence(true, 0, 0);
                shadow.setPrivilege(mode, sum);
                shadow.setMxr(mxr);
                const f = shadow.fill(va, 0, store ? Access.STORE : Access.LOAD);
                if (h.cause >= 0) {
                  expect(f, where).toBe(Walk.GUEST_FAULT);
                  expect(shadow.faultCause, where).toBe(h.cause);
                } else {
                  expect([Walk.RAM, Walk.PT_WRITE], where).toContain(f);
                }
                expect(
                  Buffer.from(s.board.ram.subarray(0, 0x4000)).equals(Buffer.from(refRam)),
                  `${where}: A/D`,
                ).toBe(true);
                const onShadow = access(s, va, store, mode, sum, mxr);
                if (f === Walk.RAM) {
                  allowed++;
                  expect(onShadow, `${where}: on the shadow`).toEqual(h);
                } else if (f === Walk.GUEST_FAULT) {
                  expect(
                    [Cause.LOAD_PAGE_FAULT, Cause.STORE_PAGE_FAULT],
                    `${where}: on the shadow`,
                  ).toContain(onShadow.cause);
                }
                expect(shadow.check(), where).toBeUndefined();
              }
            }
          }
        }
      }
      expect(allowed).toBeGreaterThan(100);
    });
  }

  it("serves VS and VU from one tree: a mode or SUM change needs no refill", () => {
    const s = machine(true);
    const shadow = new ShadowPageTables({
      hart: s.hart,
      guestRamSize: RAM_SIZE,
      poolBase: POOL,
      poolBytes: POOL_SIZE,
      policy: "sfence",
      mode: "guest",
    });
    shadow.setSatp(ROOT / 4096, 8 << 28);
    const userRw = FLAGS.indexOf(1 | 0x6 | 0x10 | 0xc0) * 4096;
    const kernelRw = FLAGS.indexOf(1 | 0x6 | 0xc0) * 4096;
    shadow.setPrivilege(PRV_U, false);
    expect(shadow.fill(userRw, 0, Access.LOAD)).toBe(Walk.RAM);
    shadow.setPrivilege(PRV_S, false);
    expect(shadow.fill(kernelRw, 0, Access.LOAD)).toBe(Walk.RAM);
    const fills = shadow.stats.fills;
    const roots = shadow.stats.rootSwitches;
    shadow.setPrivilege(PRV_S, true);
    shadow.setPrivilege(PRV_U, false);
    shadow.setMxr(true);
    expect(shadow.stats.rootSwitches).toBe(roots);
    // The hart enforces the guest's protection on the one tree.
    expect(access(s, userRw, false, PRV_U, false, false).cause).toBe(-1);
    expect(access(s, kernelRw, false, PRV_U, false, false).cause).toBe(Cause.LOAD_PAGE_FAULT);
    expect(access(s, kernelRw, false, PRV_S, false, false).cause).toBe(-1);
    expect(access(s, userRw, false, PRV_S, false, false).cause).toBe(Cause.LOAD_PAGE_FAULT);
    expect(access(s, userRw, false, PRV_S, true, false).cause).toBe(-1);
    expect(shadow.stats.fills).toBe(fills);
    // deactivate(): the next activate() writes vsatp again.
    writeCsr(s.hart, CSR.vsatp, 0, 0);
    shadow.deactivate();
    shadow.activate();
    expect(s.hart.csr[CsrSlot.VSATP + 1]! >>> 28).toBe(8);
  });
});
