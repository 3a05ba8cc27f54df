/**
 * Split virtqueues (virtio 1.2, 2.7) from the device side: chains, indirect
 * tables, notification suppression both ways, index wrap-around, and every
 * malformed ring a hostile driver can build, each of which must end in
 * DEVICE_NEEDS_RESET without touching memory outside the VM.
 */
import { describe, expect, it } from "vitest";
import {
  DEVICE_ID,
  type DescriptorChain,
  FEATURE,
  HOLD,
  MMIO,
  STATUS,
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_F,
  VirtioDeviceBase,
} from "../src/index.js";
import { RAM_BASE, RING_FEATURES, TestDriver } from "./driver.js";

/** A device that records each chain it pops and fills its writable bytes with 0xee. */
class Recorder extends VirtioDeviceBase {
  readonly type = "recorder";
  readonly deviceId = DEVICE_ID.ENTROPY;
  readonly features = 0;
  readonly queueSizes: readonly number[];
  readonly configSize = 0;
  readonly chains: { head: number; bufs: [number, number, boolean][] }[] = [];
  /** Keep chains in flight instead of using them. */
  hold = false;
  readonly held: number[] = [];

  constructor(size = 16) {
    super();
    this.queueSizes = [size];
  }

  readConfig(): number {
    return 0;
  }

  notify(): void {
    this.drain(0, (c: DescriptorChain) => {
      const bufs: [number, number, boolean][] = [];
      for (let i = 0; i < c.count; i++)
        bufs.push([c.offsets[i]! + RAM_BASE, c.lengths[i]!, i >= c.readableCount]);
      this.chains.push({ head: c.head, bufs });
      if (this.hold) {
        this.held.push(c.head);
        return HOLD;
      }
      const fill = new Uint8Array(c.writableBytes).fill(0xee);
      return c.write(0, fill);
    });
  }

  /** Complete a held chain. */
  complete(head: number, len: number): void {
    if (this.host.queue(0).push(head, len)) this.host.usedBuffers(0);
  }

  reset(): void {}
}

function started(size = 16, features = RING_FEATURES): { d: TestDriver; dev: Recorder } {
  const dev = new Recorder(size);
  const d = new TestDriver(dev);
  d.start({ features });
  return { d, dev };
}

const needsReset = (d: TestDriver) => (d.status & STATUS.DEVICE_NEEDS_RESET) !== 0;

describe("split virtqueue: well-formed chains", () => {
  it("pops a chain of readable then writable buffers and returns it with the bytes written", () => {
    const { d, dev } = started();
    const a = d.alloc(10, 1);
    const b = d.alloc(20);
    const c = d.alloc(5);
    const head = d.post(0, [
      { addr: a, len: 10 },
      { addr: b, len: 20, write: true },
      { addr: c, len: 5, write: true },
    ]);
    d.kick(0);
    expect(dev.chains).toEqual([
      {
        head,
        bufs: [
          [a, 10, false],
          [b, 20, true],
          [c, 5, true],
        ],
      },
    ]);
    expect(d.takeUsed(0)).toEqual([{ id: head, len: 25 }]);
    expect(d.bytes(b, 20).every((x) => x === 0xee)).toBe(true);
    expect(d.bytes(a, 10).every((x) => x === 1)).toBe(true);
    expect(dev.counters.notifications).toBe(1);
    expect(dev.counters.requests).toBe(1);
  });

  it("follows an indirect table, and a direct chain that ends in one (2.7.5.3.2)", () => {
    const { d, dev } = started();
    const a = d.alloc(16);
    const b = d.alloc(16);
    d.post(
      0,
      [
        { addr: a, len: 16 },
        { addr: b, len: 16, write: true },
      ],
      { indirect: true },
    );
    // Direct descriptor 5 -> indirect descriptor 6 -> table [b].
    const table = d.alloc(16);
    d.writeDesc(table, 0, b, 8, VIRTQ_DESC_F.WRITE, 0);
    const q = d.queues[0]!;
    d.writeDesc(q.desc, 5, a, 4, VIRTQ_DESC_F.NEXT, 6);
    d.writeDesc(q.desc, 6, table, 16, VIRTQ_DESC_F.INDIRECT | VIRTQ_DESC_F.WRITE, 0); // WRITE ignored
    d.publish(0, 5);
    d.kick(0);
    expect(dev.chains.map((c) => c.bufs)).toEqual([
      [
        [a, 16, false],
        [b, 16, true],
      ],
      [
        [a, 4, false],
        [b, 8, true],
      ],
    ]);
    expect(needsReset(d)).toBe(false);
  });

  it("handles many chains per kick and 16-bit index wrap-around", () => {
    const { d, dev } = started(4);
    const q = d.queues[0]!;
    // Pretend 65534 chains went by: both sides start near the wrap.
    d.transport.queue(0).lastAvail = 65534;
    d.transport.queue(0).usedIdx = 65534;
    q.availIdx = 65534;
    q.seenUsed = 65534;
    d.view.setUint16(q.used - RAM_BASE + 2, 65534, true);
    for (let round = 0; round < 3; round++) {
      const heads = [0, 1, 2].map(() => d.post(0, [{ addr: d.alloc(8), len: 8, write: true }]));
      d.kick(0);
      expect(d.takeUsed(0).map((u) => u.id)).toEqual(heads);
    }
    expect(dev.chains.length).toBe(9);
    expect(d.transport.queue(0).lastAvail).toBe((65534 + 9) & 0xffff);
  });
});

describe("split virtqueue: notification suppression", () => {
  it("without EVENT_IDX: avail.flags NO_INTERRUPT suppresses the interrupt", () => {
    const { d } = started(16, 1n << 32n);
    d.setAvailFlags(0, VIRTQ_AVAIL_F_NO_INTERRUPT);
    d.post(0, [{ addr: d.alloc(8), len: 8, write: true }]);
    d.kick(0);
    expect(d.takeUsed(0).length).toBe(1);
    expect(d.irq).toBe(false);
    d.setAvailFlags(0, 0);
    d.post(0, [{ addr: d.alloc(8), len: 8, write: true }]);
    d.kick(0);
    expect(d.irq).toBe(true);
  });

  it("with EVENT_IDX: interrupts only when used.idx passes used_event, and avail_event tracks the device", () => {
    const { d } = started(16, RING_FEATURES);
    expect(d.transport.queue(0).eventIdx).toBe(true);
    const post = () => d.post(0, [{ addr: d.alloc(8), len: 8, write: true }]);
    post();
    d.kick(0);
    expect(d.irq).toBe(true); // the first notification is always sent
    expect(d.availEvent(0)).toBe(1);
    d.ack();
    // The driver asks to hear when entry 3 has been used (used.idx moves past 3 -> 4).
    d.setUsedEvent(0, 3);
    post();
    d.kick(0); // used.idx 2
    expect(d.irq).toBe(false);
    post();
    d.kick(0); // used.idx 3
    expect(d.irq).toBe(false);
    post();
    post();
    d.kick(0); // used.idx 5: crossed 4
    expect(d.irq).toBe(true);
    expect(d.availEvent(0)).toBe(5);
    expect(d.takeUsed(0).length).toBe(5);
  });

  it("EVENT_IDX ignores avail.flags", () => {
    const { d } = started(16, RING_FEATURES);
    d.setAvailFlags(0, VIRTQ_AVAIL_F_NO_INTERRUPT);
    d.post(0, [{ addr: d.alloc(8), len: 8, write: true }]);
    d.kick(0);
    expect(d.irq).toBe(true);
  });
});

describe("split virtqueue: chains completed later", () => {
  it("keeps held heads in flight and refuses a head posted again before it is used", () => {
    const { d, dev } = started();
    dev.hold = true;
    const head = d.post(0, [{ addr: d.alloc(8), len: 8, write: true }]);
    d.kick(0);
    expect(d.transport.queue(0).pending).toBe(1);
    dev.complete(head, 8);
    expect(d.takeUsed(0)).toEqual([{ id: head, len: 8 }]);
    // A driver that reposts a head the device still holds breaks the queue.
    const again = d.post(0, [{ addr: d.alloc(8), len: 8, write: true }]);
    d.kick(0);
    d.publish(0, again);
    d.kick(0);
    expect(needsReset(d)).toBe(true);
    expect(d.transport.lastError).toMatch(/already in flight/);
  });

  it("a completion after a reset goes nowhere", () => {
    const { d, dev } = started();
    dev.hold = true;
    const head = d.post(0, [{ addr: d.alloc(8), len: 8, write: true }]);
    d.kick(0);
    d.write(MMIO.STATUS, 0);
    const before = d.ram.slice();
    dev.complete(head, 8);
    expect(Buffer.compare(d.ram, before)).toBe(0);
  });
});

describe("split virtqueue: a hostile driver", () => {
  const q0 = (d: TestDriver) => d.queues[0]!;
  type Case = [string, (d: TestDriver) => void, RegExp];
  const cases: Case[] = [
    [
      "a descriptor loop",
      (d) => {
        const a = d.alloc(8);
        d.writeDesc(q0(d).desc, 0, a, 8, VIRTQ_DESC_F.NEXT, 1);
        d.writeDesc(q0(d).desc, 1, a, 8, VIRTQ_DESC_F.NEXT, 0);
        d.publish(0, 0);
      },
      /longer than the queue size/,
    ],
    [
      "a self-loop",
      (d) => {
        d.writeDesc(q0(d).desc, 3, d.alloc(8), 8, VIRTQ_DESC_F.NEXT, 3);
        d.publish(0, 3);
      },
      /longer than the queue size/,
    ],
    [
      "a loop inside an indirect table",
      (d) => {
        const t = d.alloc(32);
        d.writeDesc(t, 0, d.alloc(8), 8, VIRTQ_DESC_F.NEXT, 1);
        d.writeDesc(t, 1, d.alloc(8), 8, VIRTQ_DESC_F.NEXT, 0);
        d.writeDesc(q0(d).desc, 0, t, 32, VIRTQ_DESC_F.INDIRECT, 0);
        d.publish(0, 0);
      },
      /longer than the queue size/,
    ],
    ["a head past the table", (d) => d.publish(0, 16), /head descriptor 16/],
    [
      "a next index past the table",
      (d) => {
        d.writeDesc(q0(d).desc, 0, d.alloc(8), 8, VIRTQ_DESC_F.NEXT, 200);
        d.publish(0, 0);
      },
      /descriptor 200 is past the table/,
    ],
    [
      "a buffer outside RAM",
      (d) => {
        d.writeDesc(q0(d).desc, 0, 0x1000_1000, 0x100, VIRTQ_DESC_F.WRITE, 0);
        d.publish(0, 0);
      },
      /outside guest RAM/,
    ],
    [
      "a buffer running past the end of RAM",
      (d) => {
        d.writeDesc(q0(d).desc, 0, RAM_BASE + d.ram.length - 4, 8, VIRTQ_DESC_F.WRITE, 0);
        d.publish(0, 0);
      },
      /outside guest RAM/,
    ],
    [
      "a buffer address above 4 GiB",
      (d) => {
        const off = q0(d).desc - RAM_BASE;
        d.writeDesc(q0(d).desc, 0, RAM_BASE, 8, VIRTQ_DESC_F.WRITE, 0);
        d.view.setUint32(off + 4, 1, true);
        d.publish(0, 0);
      },
      /outside guest RAM/,
    ],
    [
      "a buffer that wraps the 32-bit address space",
      (d) => {
        d.writeDesc(q0(d).desc, 0, 0xffff_fff0, 0x8000_0100, VIRTQ_DESC_F.WRITE, 0);
        d.publish(0, 0);
      },
      /outside guest RAM/,
    ],
    [
      "a readable buffer after a writable one",
      (d) => {
        d.writeDesc(q0(d).desc, 0, d.alloc(8), 8, VIRTQ_DESC_F.WRITE | VIRTQ_DESC_F.NEXT, 1);
        d.writeDesc(q0(d).desc, 1, d.alloc(8), 8, 0, 0);
        d.publish(0, 0);
      },
      /readable buffer after a device-writable/,
    ],
    [
      "a nested indirect table",
      (d) => {
        const inner = d.alloc(16);
        d.writeDesc(inner, 0, d.alloc(8), 8, VIRTQ_DESC_F.WRITE, 0);
        const outer = d.alloc(16);
        d.writeDesc(outer, 0, inner, 16, VIRTQ_DESC_F.INDIRECT, 0);
        d.writeDesc(q0(d).desc, 0, outer, 16, VIRTQ_DESC_F.INDIRECT, 0);
        d.publish(0, 0);
      },
      /inside an indirect table/,
    ],
    [
      "INDIRECT together with NEXT",
      (d) => {
        const t = d.alloc(16);
        d.writeDesc(t, 0, d.alloc(8), 8, VIRTQ_DESC_F.WRITE, 0);
        d.writeDesc(q0(d).desc, 0, t, 16, VIRTQ_DESC_F.INDIRECT | VIRTQ_DESC_F.NEXT, 1);
        d.publish(0, 0);
      },
      /NEXT set/,
    ],
    [
      "an indirect table of 24 bytes",
      (d) => {
        d.writeDesc(q0(d).desc, 0, d.alloc(24), 24, VIRTQ_DESC_F.INDIRECT, 0);
        d.publish(0, 0);
      },
      /not a multiple of 16/,
    ],
    [
      "an empty indirect table",
      (d) => {
        d.writeDesc(q0(d).desc, 0, d.alloc(16), 0, VIRTQ_DESC_F.INDIRECT, 0);
        d.publish(0, 0);
      },
      /not a multiple of 16/,
    ],
    [
      "an indirect table outside RAM",
      (d) => {
        d.writeDesc(q0(d).desc, 0, 0x100, 64, VIRTQ_DESC_F.INDIRECT, 0);
        d.publish(0, 0);
      },
      /indirect table outside/,
    ],
    [
      "an indirect table longer than the queue",
      (d) => {
        const n = 17;
        const t = d.alloc(16 * n);
        for (let i = 0; i < n; i++)
          d.writeDesc(t, i, d.alloc(8), 8, i < n - 1 ? VIRTQ_DESC_F.NEXT : 0, i + 1);
        d.writeDesc(q0(d).desc, 0, t, 16 * n, VIRTQ_DESC_F.INDIRECT, 0);
        d.publish(0, 0);
      },
      /longer than the queue size/,
    ],
    [
      "4 GiB of buffers",
      (d) => {
        const a = d.alloc(8);
        for (let i = 0; i < 4; i++)
          d.writeDesc(q0(d).desc, i, a, 0x4000_0000, i < 3 ? VIRTQ_DESC_F.NEXT : 0, i + 1);
        d.publish(0, 0);
      },
      /outside guest RAM|4 GiB/,
    ],
    [
      "avail.idx far ahead of the device",
      (d) => {
        d.view.setUint16(q0(d).avail - RAM_BASE + 2, 100, true);
      },
      /ahead of the device/,
    ],
  ];

  it.each(cases)(
    "%s sets DEVICE_NEEDS_RESET with a configuration-change interrupt",
    (_what, build, reason) => {
      const { d, dev } = started();
      build(d);
      d.kick(0);
      expect(needsReset(d)).toBe(true);
      expect(d.read(MMIO.INTERRUPT_STATUS) & 2).toBe(2);
      expect(d.transport.lastError).toMatch(reason);
      expect(dev.chains).toEqual([]);
      expect(d.takeUsed(0)).toEqual([]);
      expect(dev.counters.errors).toBe(1);
      expect(d.guardsIntact()).toBe(true);
      // Further kicks are ignored until the driver resets the device.
      d.kick(0);
      expect(dev.counters.errors).toBe(1);
      d.write(MMIO.STATUS, 0);
      d.start();
      d.post(0, [{ addr: d.alloc(8), len: 8, write: true }]);
      d.kick(0);
      expect(d.takeUsed(0).length).toBe(1);
    },
  );

  it("an indirect descriptor is refused when the driver did not negotiate VIRTIO_F_RING_INDIRECT_DESC", () => {
    const { d } = started(16, 1n << BigInt(FEATURE.VERSION_1));
    d.post(0, [{ addr: d.alloc(8), len: 8, write: true }], { indirect: true });
    d.kick(0);
    expect(d.transport.lastError).toMatch(/without VIRTIO_F_RING_INDIRECT_DESC/);
  });

  it("a descriptor rewritten after the device parsed it changes nothing the device holds", () => {
    const { d, dev } = started();
    dev.hold = true;
    const a = d.alloc(8);
    const head = d.post(0, [{ addr: a, len: 8, write: true }]);
    d.kick(0);
    // The driver now points the descriptor outside RAM; the device's copy still says `a`.
    d.writeDesc(d.queues[0]!.desc, head, 0x10, 0x1000, VIRTQ_DESC_F.WRITE, 0);
    dev.complete(head, 0);
    expect(dev.chains[0]!.bufs).toEqual([[a, 8, true]]);
    expect(needsReset(d)).toBe(false);
  });
});
