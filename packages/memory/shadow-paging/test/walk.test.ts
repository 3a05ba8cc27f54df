/**
 * The shadow tables against the hart's own MMU, on random guest page tables
 * (Sv39 and Sv48: valid and invalid entries, pointers and leaves of every
 * level, every permission combination, U, A/D, misaligned superpages,
 * reserved bits, targets in RAM, in a hole, beyond 4 GiB and in the VMM's
 * pool). For each random access (load or store, guest U- or S-mode, SUM,
 * MXR):
 *  - `translate` gives what the hart gives when it makes the access itself
 *    (M-mode with MPRV at the guest's privilege, satp = the guest's tables):
 *    the same fault cause, the same physical page, the same A/D updates;
 *  - after `fill`, the hart in U-mode on the shadow tables allows exactly
 *    what the guest's tables allow, at the same physical address.
 */
import { Cause, ExitReason, type Hart, MSTATUS, PRV_M, PRV_S, PRV_U, writeCsr } from "@hvkit/cpu";
import { assemble, CSR } from "@hvkit/isa";
import { VirtBoard } from "@hvkit/machine";
import { describe, expect, it } from "vitest";
import { Access, ShadowPageTables, Walk } from "../src/index.js";

const KIB = 1024;
const RAM_SIZE = 1024 * KIB;
const POOL_SIZE = 256 * KIB;
const RAM = 0x8000_0000;
const POOL = RAM + RAM_SIZE;
const TABLE_PAGES = 64; // RAM pages 1..64 hold page tables; the rest is data
const HOLE = 0x7000_0000;

/** A small deterministic PRNG (xorshift32). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

interface Setup {
  board: VirtBoard;
  hart: Hart;
  view: DataView;
  load: bigint;
  store: bigint;
}

/** A board with guest RAM, and (for the VMM) the pool above it; the reference hart has none, as under emulation. */
function setup(pool: boolean): Setup {
  const board = new VirtBoard({ ramSize: RAM_SIZE, hiddenRamSize: pool ? POOL_SIZE : 0 });
  const hart = board.hart;
  // PMP: everything, as the VMM core's built-in firmware sets it.
  writeCsr(hart, 0x3b0, -1, 0x3fffff);
  writeCsr(hart, 0x3a0, 0x1f, 0);
  const code = assemble("ld t0, 0(t1)\nsd t0, 0(t1)\n", { base: BigInt(RAM) }).bytes;
  board.ram.set(code, 0);
  const view = new DataView(board.ram.buffer, board.ram.byteOffset, board.ram.length);
  return { board, hart, view, load: BigInt(RAM), store: BigInt(RAM + 4) };
}

/** Fill data pages so each 8-byte word holds its own physical address. */
function fillData(s: Setup): void {
  for (let off = (TABLE_PAGES + 1) * 4096; off < RAM_SIZE; off += 8)
    s.view.setBigUint64(off, BigInt(RAM + off), true);
}

/** The 8-byte word of RAM at `pa` now. */
function word(s: Setup, pa: number): bigint {
  return s.view.getBigUint64(pa - (pa % 8) - RAM, true);
}

/** Random page tables; returns the satp value and a way to draw addresses that reach into them. */
function randomTables(s: Setup, rand: () => number): { satp: bigint; levels: number; va: () => bigint } {
  const levels = rand() < 0.5 ? 3 : 4;
  const view = s.view;
  for (let off = 4096; off < (TABLE_PAGES + 1) * 4096; off += 8) view.setBigUint64(off, 0n, true);
  const tablePa = (i: number): number => RAM + (1 + i) * 4096;
  const used: number[][] = Array.from({ length: TABLE_PAGES }, () => []);
  let next = 1;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const targetPa = (level: number): number => {
    const r = rand();
    const ramPage = (): number => RAM + Math.floor(rand() * (RAM_SIZE / 4096)) * 4096;
    if (level === 0) {
      if (r < 0.7) return ramPage(); // page-table pages included: the guest may map its tables
      if (r < 0.8) return HOLE;
      if (r < 0.9) return POOL + Math.floor(rand() * (POOL_SIZE / 4096)) * 4096;
      return 2 ** 32 + 4096 * Math.floor(rand() * 16);
    }
    // Superpages: aligned ones cover RAM partly (RAM is smaller than 2 MiB), the pool and beyond.
    if (r < 0.6) return level === 3 ? 0 : RAM;
    if (r < 0.75) return ramPage(); // misaligned: a page fault
    if (r < 0.85) return POOL;
    return HOLE;
  };
  const fillTable = (t: number, level: number): void => {
    const entries = 1 + Math.floor(rand() * 4);
    for (let e = 0; e < entries; e++) {
      const idx = pick([0, 1, 2, 255, 256, 300, 511, Math.floor(rand() * 512)]);
      let pte: bigint;
      const r = rand();
      if (r < 0.6 && level > 0 && next < TABLE_PAGES) {
        const child = next++;
        let flags = 1n;
        if (rand() < 0.05) flags |= pick([0x10n, 0x40n, 0x80n]); // U/A/D in a pointer: reserved
        pte = (BigInt(tablePa(child) / 4096) << 10n) | flags;
        if (rand() < 0.03) pte = (BigInt(POOL / 4096) << 10n) | 1n; // a pointer into the pool
        fillTable(child, level - 1);
      } else {
        const perms = pick([0x2, 0x4, 0x6, 0x8, 0xa, 0xc, 0xe, 0x6, 0x6, 0xe, 0xe, 0xe]);
        let flags = BigInt(perms | 1);
        if (rand() < 0.5) flags |= 0x10n;
        if (rand() < 0.7) flags |= 0x40n;
        if (rand() < 0.5) flags |= 0x80n;
        if (rand() < 0.08) flags &= ~1n;
        pte = (BigInt(Math.floor(targetPa(level) / 4096)) << 10n) | flags;
        if (rand() < 0.03) pte |= 1n << BigInt(54 + Math.floor(rand() * 10)); // PBMT/N/reserved
      }
      view.setBigUint64(tablePa(t) - RAM + idx * 8, pte, true);
      used[t]!.push(idx);
    }
  };
  fillTable(0, levels - 1);
  const satp = (BigInt(levels === 3 ? 8 : 9) << 60n) | BigInt(tablePa(0) / 4096);
  const va = (): bigint => {
    // Follow populated entries from the root, then random low bits.
    let v = 0n;
    let t = 0;
    for (let level = levels - 1; level >= 0; level--) {
      const idx = used[t]!.length && rand() < 0.9 ? pick(used[t]!) : Math.floor(rand() * 512);
      v |= BigInt(idx) << BigInt(12 + 9 * level);
      const pte = view.getBigUint64(tablePa(t) - RAM + idx * 8, true);
      const child = Number(pte >> 10n) * 4096 - RAM;
      if ((pte & 0xfn) === 1n && child >= 4096 && child < (TABLE_PAGES + 1) * 4096) t = child / 4096 - 1;
      else {
        // Inside a superpage: mostly offsets that stay within RAM (which is smaller than one).
        for (let l = level - 1; l >= 0; l--) {
          const inRam = rand() < 0.7;
          const idx =
            l > 0
              ? inRam
                ? 0
                : Math.floor(rand() * 512)
              : Math.floor(rand() * (inRam ? RAM_SIZE / 4096 : 512));
          v |= BigInt(idx) << BigInt(12 + 9 * l);
        }
        break;
      }
    }
    v |= BigInt(Math.floor(rand() * 512) * 8);
    // Sign-extend from the top VA bit; sometimes break canonicity.
    const top = BigInt(12 + 9 * levels - 1);
    if ((v >> top) & 1n) v |= ~((1n << top) - 1n) & 0xffff_ffff_ffff_ffffn;
    if (rand() < 0.03) v ^= 1n << 62n;
    return v;
  };
  return { satp, levels, va };
}

/** Run one access on the hart: M-mode with MPRV at `mpp`. Returns the cause or the loaded value. */
function hartAccess(
  s: Setup,
  store: boolean,
  va: bigint,
  mpp: number,
  sum: boolean,
  mxr: boolean,
  satp: bigint | undefined,
): { cause: number; value: bigint; tval: bigint } {
  const h = s.hart;
  h.priv = PRV_M;
  const ms = MSTATUS.MPRV | (mpp << 11) | (sum ? MSTATUS.SUM : 0) | (mxr ? MSTATUS.MXR : 0);
  writeCsr(h, CSR.mstatus, ms, 0);
  if (satp !== undefined) writeCsr(h, CSR.satp, Number(satp & 0xffffffffn) | 0, Number(satp >> 32n) | 0);
  h.flushTlb();
  h.exitOnException[PRV_M] = -1;
  h.setX(6, BigInt.asIntN(64, va));
  h.setX(5, 0x1234n);
  h.setPc(store ? s.store : s.load);
  const r = h.run(1);
  if (r === ExitReason.TRAP) return { cause: h.exit.cause, value: 0n, tval: h.exit.tval };
  return { cause: -1, value: h.getX(5), tval: 0n };
}

const isAccessFault = (c: number): boolean => c === Cause.LOAD_ACCESS || c === Cause.STORE_ACCESS;

describe("shadow translation against the hart's MMU", () => {
  it("gives the hart's fault, page and A/D updates; a filled shadow allows exactly what the guest does", () => {
    const ref = setup(false);
    const s = setup(true);
    const rand = rng(0x5eed);
    const shadow = newShadow(s, "sfence");
    let checked = 0;
    let allowed = 0;
    const tables = (TABLE_PAGES + 1) * 4096;
    for (let round = 0; round < 60; round++) {
      fillData(ref);
      const t = randomTables(ref, rand);
      const snapshot = ref.board.ram.slice();
      shadow.setSatp(Number(t.satp & 0xffffffffn) | 0, Number(t.satp >> 32n) | 0);
      for (let i = 0; i < 60; i++) {
        const va = t.va();
        const store = rand() < 0.4;
        const mode = rand() < 0.5 ? PRV_U : PRV_S;
        const sum = rand() < 0.5;
        const mxr = rand() < 0.3;
        const lo = Number(va & 0xffffffffn) | 0;
        const hi = Number(va >> 32n) | 0;
        const acc = store ? Access.STORE : Access.LOAD;
        const where = `round ${round} va 0x${va.toString(16)} ${store ? "store" : "load"} ${mode ? "S" : "U"} sum=${sum} mxr=${mxr}`;

        // The guest's translation, by the VMM.
        s.board.ram.set(snapshot);
        shadow.setMxr(mxr);
        shadow.setPrivilege(mode, sum);
        const w = shadow.translate(lo, hi, acc);
        const gpa = shadow.gpa;
        const cause = shadow.faultCause;
        const afterVmm = s.board.ram.slice(0, tables);

        // The hart's, on a machine like the emulation baseline's.
        ref.board.ram.set(snapshot);
        const h = hartAccess(ref, store, va, mode, sum, mxr, t.satp);
        if (w === Walk.GUEST_FAULT) expect(h.cause, where).toBe(cause);
        else if (w === Walk.NOT_RAM) {
          // Not RAM: the VMM emulates the access on the bus, which faults for a hole, the pool or beyond 4 GiB.
          const device = gpa < 2 ** 32 && ref.board.bus.load(gpa, 8);
          expect(device ? h.cause === -1 : isAccessFault(h.cause), where).toBe(true);
        } else {
          expect(h.cause, where).toBe(-1);
          expect(h.value, where).toBe(store ? 0x1234n : word(ref, gpa));
        }
        // (A store that reached a page-table page wrote there too.)
        if (store && w === Walk.RAM && gpa - RAM < tables)
          new DataView(afterVmm.buffer).setBigUint64(gpa - (gpa % 8) - RAM, 0x1234n, true);
        expect(
          Buffer.from(afterVmm).equals(Buffer.from(ref.board.ram.subarray(0, tables))),
          `${where}: A/D`,
        ).toBe(true);
        checked++;

        // The shadow, filled for this access, on the hart in U-mode (the deprivileged guest).
        s.board.ram.set(snapshot);
        shadow.sfence(true, 0, 0); // drop the shadow and point the real satp at it again
        const f = shadow.fill(lo, hi, acc);
        expect(f, where).toBe(w);
        const onShadow = hartAccess(s, store, va, PRV_U, false, mxr, undefined);
        if (f === Walk.RAM) {
          allowed++;
          expect(onShadow.cause, `${where}: on the shadow`).toBe(-1);
          expect(onShadow.value, where).toBe(store ? 0x1234n : word(s, gpa));
        } else {
          expect([Cause.LOAD_PAGE_FAULT, Cause.STORE_PAGE_FAULT], `${where}: on the shadow`).toContain(
            onShadow.cause,
          );
        }
        expect(shadow.check({ safetyOnly: true }), where).toBeUndefined();
      }
    }
    expect(checked).toBe(3600);
    expect(allowed).toBeGreaterThan(300);
  });
});

/** The shadow over `s`'s guest RAM, its pool right above it. */
function newShadow(s: Setup, policy: "sfence" | "write-protect"): ShadowPageTables {
  return new ShadowPageTables({
    hart: s.hart,
    guestRamSize: RAM_SIZE,
    poolBase: POOL,
    poolBytes: POOL_SIZE,
    policy,
  });
}

/** Sv39 tables in RAM: root -> l1 -> l0, l0[1] maps VA 0x1000 to `data`, l0[2] maps VA 0x2000 to l0 itself. */
function smallTables(s: Setup): { satp: bigint; l0: number; data: number } {
  const root = RAM + 0x1000;
  const l1 = RAM + 0x2000;
  const l0 = RAM + 0x3000;
  const data = RAM + 0x80000;
  const v = s.view;
  v.setBigUint64(root - RAM, (BigInt(l1 / 4096) << 10n) | 1n, true);
  v.setBigUint64(l1 - RAM, (BigInt(l0 / 4096) << 10n) | 1n, true);
  v.setBigUint64(l0 - RAM + 8, (BigInt(data / 4096) << 10n) | 0xd7n, true); // V R W U A D
  v.setBigUint64(l0 - RAM + 16, (BigInt(l0 / 4096) << 10n) | 0xd7n, true);
  return { satp: (8n << 60n) | BigInt(root / 4096), l0, data };
}

function setSatp(shadow: ShadowPageTables, satp: bigint): void {
  shadow.setSatp(Number(satp & 0xffffffffn) | 0, Number(satp >> 32n) | 0);
}

describe("sync policies", () => {
  it("write-protect: page-table pages are read-only in the shadow; a PTE write drops what derived from it", () => {
    const s = setup(true);
    fillData(s);
    const t = smallTables(s);
    const shadow = newShadow(s, "write-protect");
    shadow.setPrivilege(PRV_U, false);
    setSatp(shadow, t.satp);
    expect(shadow.fill(0x1000, 0, Access.LOAD)).toBe(Walk.RAM);
    expect(hartAccess(s, false, 0x1000n, PRV_U, false, false, undefined).value).toBe(BigInt(t.data));
    expect(shadow.isPageTable(t.l0)).toBe(true);
    expect(shadow.isPageTable(t.data)).toBe(false);
    // A store to the guest's own table through its self-map: trapped, not filled writable.
    expect(shadow.fill(0x2008, 0, Access.STORE)).toBe(Walk.PT_WRITE);
    expect(hartAccess(s, true, 0x2008n, PRV_U, false, false, undefined).cause).toBe(Cause.STORE_PAGE_FAULT);
    expect(hartAccess(s, false, 0x2008n, PRV_U, false, false, undefined).cause).toBe(-1); // reads are fine
    // The VMM emulates the store (l0[1] -> another page) and syncs: no stale entry, no fence needed.
    const other = t.data + 0x1000;
    s.view.setBigUint64(t.l0 - RAM + 8, (BigInt(other / 4096) << 10n) | 0xd7n, true);
    shadow.pteWritten(t.l0 + 8, 8);
    expect(shadow.check()).toBeUndefined();
    expect(hartAccess(s, false, 0x1000n, PRV_U, false, false, undefined).cause).toBe(Cause.LOAD_PAGE_FAULT);
    expect(shadow.fill(0x1000, 0, Access.LOAD)).toBe(Walk.RAM);
    expect(hartAccess(s, false, 0x1000n, PRV_U, false, false, undefined).value).toBe(BigInt(other));
    expect(shadow.stats.pteWrites).toBe(1);
    // Written over and over without being walked: no longer shadowed (write flooding).
    for (let i = 0; i < 20; i++) shadow.pteWritten(t.l0 + 8, 8);
    expect(shadow.stats.unshadowed).toBe(1);
    expect(shadow.isPageTable(t.l0)).toBe(false);
    expect(shadow.check()).toBeUndefined();
  });

  it("sfence: the shadow goes stale like a TLB until the guest fences the address", () => {
    const s = setup(true);
    fillData(s);
    const t = smallTables(s);
    const shadow = newShadow(s, "sfence");
    shadow.setPrivilege(PRV_U, false);
    setSatp(shadow, t.satp);
    expect(shadow.fill(0x1000, 0, Access.LOAD)).toBe(Walk.RAM);
    expect(shadow.fill(0x2008, 0, Access.STORE)).toBe(Walk.RAM); // no write protection
    // The guest rewrites l0[1] through its self-map (a plain store on the hart).
    const other = t.data + 0x1000;
    s.hart.setX(5, (BigInt(other / 4096) << 10n) | 0xd7n);
    s.hart.priv = PRV_M;
    writeCsr(s.hart, CSR.mstatus, MSTATUS.MPRV, 0);
    s.hart.setX(6, 0x2008n);
    s.hart.setPc(s.store + 0n);
    s.hart.exitOnException[PRV_M] = -1;
    s.hart.run(1);
    expect(s.view.getBigUint64(t.l0 - RAM + 8, true) >> 10n).toBe(BigInt(other / 4096));
    expect(shadow.check()).toMatch(/wrong page/);
    expect(hartAccess(s, false, 0x1000n, PRV_U, false, false, undefined).value).toBe(BigInt(t.data)); // stale
    shadow.sfence(false, 0x1000, 0);
    expect(shadow.check()).toBeUndefined();
    expect(shadow.fill(0x1000, 0, Access.LOAD)).toBe(Walk.RAM);
    expect(hartAccess(s, false, 0x1000n, PRV_U, false, false, undefined).value).toBe(BigInt(other));
  });

  it("keeps a guest user view, a kernel view and a kernel view with SUM apart", () => {
    const s = setup(true);
    fillData(s);
    const t = smallTables(s); // l0[1] is a U page
    const shadow = newShadow(s, "sfence");
    setSatp(shadow, t.satp);
    shadow.setPrivilege(PRV_S, false);
    expect(shadow.fill(0x1000, 0, Access.LOAD)).toBe(Walk.GUEST_FAULT); // S without SUM: no user pages
    expect(shadow.faultCause).toBe(Cause.LOAD_PAGE_FAULT);
    shadow.setPrivilege(PRV_S, true);
    expect(shadow.fill(0x1000, 0, Access.LOAD)).toBe(Walk.RAM);
    expect(shadow.fill(0x1000, 0, Access.FETCH)).toBe(Walk.GUEST_FAULT); // never executable from S
    expect(hartAccess(s, false, 0x1000n, PRV_U, false, false, undefined).cause).toBe(-1);
    shadow.setPrivilege(PRV_S, false); // back to the view without user pages
    expect(hartAccess(s, false, 0x1000n, PRV_U, false, false, undefined).cause).toBe(Cause.LOAD_PAGE_FAULT);
    shadow.setPrivilege(PRV_U, false);
    expect(hartAccess(s, false, 0x1000n, PRV_U, false, false, undefined).cause).toBe(Cause.LOAD_PAGE_FAULT);
    expect(shadow.fill(0x1000, 0, Access.LOAD)).toBe(Walk.RAM);
    expect(hartAccess(s, false, 0x1000n, PRV_U, false, false, undefined).cause).toBe(-1);
    expect(shadow.check()).toBeUndefined();
  });

  it("refuses a pool that is not VMM-private RAM above guest RAM", () => {
    const s = setup(true);
    const make = (poolBase: number, poolBytes: number) =>
      new ShadowPageTables({ hart: s.hart, guestRamSize: RAM_SIZE, poolBase, poolBytes, policy: "sfence" });
    expect(() => make(RAM, POOL_SIZE)).toThrow(RangeError);
    expect(() => make(POOL, 4096)).toThrow(RangeError);
    expect(() => make(POOL, POOL_SIZE * 2)).toThrow(RangeError);
  });
});

describe("prefill", () => {
  it("a fill inside a guest superpage installs its aligned group of 16 pages, each exactly as a fill would", () => {
    const s = setup(true);
    fillData(s);
    // Sv39: root[0] -> l1; l1[1] is a 2 MiB leaf, VA 0x200000 -> RAM (V R U A; D unset: read-only).
    const root = RAM + 0x1000;
    const l1 = RAM + 0x2000;
    s.view.setBigUint64(root - RAM, (BigInt(l1 / 4096) << 10n) | 1n, true);
    s.view.setBigUint64(l1 - RAM + 8, (BigInt(RAM / 4096) << 10n) | 0x53n, true);
    const shadow = newShadow(s, "sfence");
    shadow.setPrivilege(PRV_U, false);
    setSatp(shadow, (8n << 60n) | BigInt(root / 4096));
    // Page 100 of the superpage: the group is pages 96-111.
    const va = (page: number): bigint => BigInt(0x200000 + page * 4096);
    expect(shadow.fill(Number(va(100)), 0, Access.LOAD)).toBe(Walk.RAM);
    expect(shadow.stats.prefills).toBe(15);
    expect(shadow.check()).toBeUndefined();
    for (const page of [96, 103, 111]) {
      expect(hartAccess(s, false, va(page), PRV_U, false, false, undefined).value).toBe(
        BigInt(RAM + page * 4096),
      );
      // Read-only as the guest's leaf is (D clear: the first store must reach the VMM to set it).
      expect(hartAccess(s, true, va(page), PRV_U, false, false, undefined).cause).toBe(
        Cause.STORE_PAGE_FAULT,
      );
    }
    // Outside the group: not installed.
    expect(hartAccess(s, false, va(95), PRV_U, false, false, undefined).cause).toBe(Cause.LOAD_PAGE_FAULT);
    expect(hartAccess(s, false, va(112), PRV_U, false, false, undefined).cause).toBe(Cause.LOAD_PAGE_FAULT);
    // A refill of a leaf already there installs nothing more.
    expect(shadow.fill(Number(va(101)), 0, Access.LOAD)).toBe(Walk.RAM);
    expect(shadow.stats.prefills).toBe(15);
  });
});

describe("direct pages (an assigned device)", () => {
  it("fills a leaf to the device page (loads and stores reach it, no fetch); other devices stay MMIO", () => {
    const s = setup(true);
    fillData(s);
    const t = smallTables(s);
    const device = 0x1000_1000; // virtio slot 0 (an empty slot: MagicValue, Version 2)
    // va 0x3000 -> the device page, 0x4000 -> the UART (not assigned); V R W X U A D.
    s.view.setBigUint64(t.l0 - RAM + 24, (BigInt(device / 4096) << 10n) | 0xdfn, true);
    s.view.setBigUint64(t.l0 - RAM + 32, (BigInt(0x1000_0000 / 4096) << 10n) | 0xdfn, true);
    const shadow = new ShadowPageTables({
      hart: s.hart,
      guestRamSize: RAM_SIZE,
      poolBase: POOL,
      poolBytes: POOL_SIZE,
      policy: "write-protect",
      directPages: [{ base: device, size: 0x1000 }],
    });
    shadow.setPrivilege(PRV_U, false);
    setSatp(shadow, t.satp);
    expect(shadow.fill(0x3000, 0, Access.FETCH)).toBe(Walk.NOT_RAM);
    expect(shadow.fill(0x3000, 0, Access.LOAD)).toBe(Walk.RAM);
    expect(shadow.fill(0x3000, 0, Access.STORE)).toBe(Walk.RAM);
    expect(shadow.stats.directFills).toBe(2);
    expect(shadow.translate(0x3000, 0, Access.LOAD)).toBe(Walk.NOT_RAM); // the VMM's own emulation: the bus
    expect(hartAccess(s, false, 0x3000n, PRV_U, false, false, undefined).value).toBe(0x2_7472_6976n);
    expect(hartAccess(s, true, 0x3000n, PRV_U, false, false, undefined).cause).toBe(-1);
    expect(shadow.fill(0x4000, 0, Access.LOAD)).toBe(Walk.NOT_RAM);
    expect(hartAccess(s, false, 0x4000n, PRV_U, false, false, undefined).cause).toBe(Cause.LOAD_PAGE_FAULT);
    expect(shadow.check()).toBeUndefined();
    expect(
      () =>
        new ShadowPageTables({
          hart: s.hart,
          guestRamSize: RAM_SIZE,
          poolBase: POOL,
          poolBytes: POOL_SIZE,
          policy: "sfence",
          directPages: [{ base: RAM, size: 0x1000 }],
        }),
    ).toThrow(/outside RAM/);
  });
});
