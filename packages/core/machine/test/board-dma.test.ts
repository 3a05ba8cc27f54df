/**
 * Virtio slot devices write guest RAM by DMA and say so through the slot
 * context's dmaWritten: the hart drops code it decoded there (so a DMA over
 * code that already ran takes effect) and the board's onDmaWrite hears of it
 * (a hypervisor refreshes its shadows).
 */
import { assemble } from "@hvkit/isa";
import { describe, expect, it } from "vitest";
import { type Device, VIRT_MEMORY_MAP, type VirtioSlotContext } from "../src/index.js";
import { guest } from "./helpers.js";

const PROGRAM = (imm: number) => `
_start:
  li s0, 0
  li s1, 0
loop:
patch:
  li a0, ${imm}
  add s0, s0, a0
  bnez s1, done
  li t0, 0x${VIRT_MEMORY_MAP.virtio.base.toString(16)}
  li t1, 1
  sw t1, 0(t0)
  li s1, 1
  j loop
done:
  la t0, result
  sd s0, 0(t0)
  li t0, 0x100000
  li t1, 0x5555
  sw t1, 0(t0)
1: j 1b
.align 3
result: .dword 0
`;

/** A slot device whose register write DMA-writes `bytes` at `pa` (and, if told, announces it). */
function dmaDevice(pa: () => number, bytes: Uint8Array, announce: boolean) {
  return (ctx: VirtioSlotContext): Device => ({
    name: "dma-test",
    size: 0x1000,
    badAccesses: 0,
    read: () => 0,
    write() {
      ctx.ram.set(bytes, pa() - ctx.ramBase);
      if (announce) ctx.dmaWritten(pa(), bytes.length);
    },
  });
}

describe("device DMA and the hart's decoded code", () => {
  const patched = (() => {
    const a = assemble(PROGRAM(1), { base: 0x8000_0000n });
    const b = assemble(PROGRAM(10), { base: 0x8000_0000n });
    const at = Number(a.symbols.get("patch")! - 0x8000_0000n);
    const len = (a.bytes[at]! & 3) === 3 ? 4 : 2; // a compressed li is 2 bytes
    return { at, bytes: b.bytes.subarray(at, at + len), same: a.bytes.length === b.bytes.length };
  })();

  it("an announced DMA over code that already ran is executed, and onDmaWrite hears of it", () => {
    expect(patched.same).toBe(true);
    const writes: [number, number][] = [];
    let patchPa = 0;
    const g = guest(PROGRAM(1), {
      virtio: [dmaDevice(() => patchPa, patched.bytes, true)],
      onDmaWrite: (pa, n) => writes.push([pa, n]),
    });
    patchPa = g.sym("patch");
    expect(g.run().reason).toBe("poweroff");
    expect(g.dword("result")).toBe(11n); // 1 before the DMA, 10 after
    expect(writes).toEqual([[patchPa, patched.bytes.length]]);
  });

  it("(the regression this guards: without the announcement the stale decoded instruction runs)", () => {
    let patchPa = 0;
    const g = guest(PROGRAM(1), { virtio: [dmaDevice(() => patchPa, patched.bytes, false)] });
    patchPa = g.sym("patch");
    expect(g.run().reason).toBe("poweroff");
    expect(g.dword("result")).toBe(2n);
  });
});
