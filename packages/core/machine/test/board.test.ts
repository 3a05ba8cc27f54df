/**
 * The virt board: QEMU's address map, the generated devicetree (what Linux
 * and OpenSBI look up in it), the SiFive test device and empty virtio-mmio
 * slots seen from a guest, the virtio slot hook, Linux boot placement,
 * counters, reset and device snapshots.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NON_VIRTUALIZABLE_PROFILE } from "@hvkit/isa";
import { gzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import {
  type Device,
  FINISHER_FAIL,
  MachineError,
  readDtb,
  SifiveTest,
  VIRT_IRQ,
  VIRT_MEMORY_MAP,
  VirtBoard,
  VirtioMmioEmpty,
} from "../src/index.js";
import { guest } from "./helpers.js";

const MIB = 1 << 20;

let dtc: boolean;
try {
  execFileSync("dtc", ["--version"], { stdio: "ignore" });
  dtc = true;
} catch {
  dtc = false;
}

describe("address map", () => {
  it("maps the devices at QEMU virt's addresses", () => {
    const board = new VirtBoard({ ramSize: 16 * MIB });
    const map = board.bus.mappings().map((m) => [m.device.name, m.base, m.device.size]);
    expect(map).toEqual([
      ["test", 0x10_0000, 0x1000],
      ["clint", 0x200_0000, 0x1_0000],
      ["plic", 0xc00_0000, 0x60_0000],
      ["uart0", 0x1000_0000, 0x100],
      ...Array.from({ length: 8 }, (_, i) => [`virtio${i}`, 0x1000_1000 + 0x1000 * i, 0x1000]),
    ]);
    expect(board.ramBase).toBe(0x8000_0000);
    expect(board.ram.length).toBe(16 * MIB);
  });

  it("refuses bad configurations with MACHINE_BAD_CONFIG", () => {
    for (const cfg of [{ ramSize: 1000 }, { ramSize: 4 * 1024 * MIB }, { stepsPerTick: 0 }]) {
      expect(() => new VirtBoard(cfg)).toThrow(MachineError);
    }
    expect(() => new VirtBoard({ ramSize: MIB, virtio: new Array(9).fill(undefined) })).toThrow(
      /8 virtio-mmio/,
    );
  });
});

describe("hidden RAM and the ISA profile", () => {
  it("keeps host-private RAM above the guest's, out of the devicetree and the loaders, addressable by the hart", () => {
    const board = new VirtBoard({ ramSize: 16 * MIB, hiddenRamSize: 2 * MIB });
    expect(board.ram.length).toBe(16 * MIB);
    expect(board.hiddenRam.length).toBe(2 * MIB);
    expect(board.hart.ramSize).toBe(18 * MIB);
    expect(board.hiddenRam.byteOffset).toBe(board.ram.byteOffset + 16 * MIB);
    expect(board.hiddenRam.buffer).toBe(board.ram.buffer);
    expect(readDtb(board.devicetree()).root.find("/memory@80000000")?.cells("reg")).toEqual([
      0,
      0x8000_0000,
      0,
      16 * MIB,
    ]);
    expect(() => new VirtBoard({ ramSize: 2048 * MIB, hiddenRamSize: 4096 })).toThrow(MachineError);
    expect(() => new VirtBoard({ ramSize: 16 * MIB, hiddenRamSize: 100 })).toThrow(/hiddenRamSize/);
    expect(new VirtBoard({ ramSize: 16 * MIB }).hiddenRam.length).toBe(0);
  });

  it("gives the hart the ISA profile", () => {
    const board = new VirtBoard({ ramSize: 16 * MIB, isaProfile: NON_VIRTUALIZABLE_PROFILE });
    expect(board.hart.isaProfile).toBe(NON_VIRTUALIZABLE_PROFILE);
    expect(new VirtBoard({ ramSize: 16 * MIB }).hart.isaProfile.name).toBe("standard");
  });
});

describe("devicetree", () => {
  const board = new VirtBoard({ ramSize: 64 * MIB });
  const dtb = board.devicetree({
    bootargs: "console=ttyS0 earlycon=sbi",
    initrd: { start: 0x8400_0000, end: 0x8410_0000 },
  });
  const root = readDtb(dtb).root;

  it("describes the hart as Linux's cpufeature code and OpenSBI read it", () => {
    expect(root.find("/cpus")?.u32("timebase-frequency")).toBe(10_000_000);
    const cpu = root.find("/cpus/cpu@0")!;
    expect(cpu.string("device_type")).toBe("cpu");
    expect(cpu.u32("reg")).toBe(0);
    expect(cpu.string("status")).toBe("okay");
    expect(cpu.string("compatible")).toBe("riscv");
    expect(cpu.string("riscv,isa")).toBe("rv64imafdc_zicsr_zifencei_sstc");
    expect(cpu.string("riscv,isa-base")).toBe("rv64i");
    expect(cpu.strings("riscv,isa-extensions")).toEqual([
      "i",
      "m",
      "a",
      "f",
      "d",
      "c",
      "zicsr",
      "zifencei",
      "zicntr",
      "sstc",
    ]);
    expect(cpu.string("mmu-type")).toBe("riscv,sv48");
    const intc = cpu.child("interrupt-controller")!;
    expect(intc.string("compatible")).toBe("riscv,cpu-intc");
    expect(intc.u32("#interrupt-cells")).toBe(1);
    expect(intc.prop("interrupt-controller")).toBeDefined();
  });

  it("has memory, chosen (no rng-seed), and the poweroff/reboot syscon nodes", () => {
    expect(root.find("/memory@80000000")?.cells("reg")).toEqual([0, 0x8000_0000, 0, 64 * MIB]);
    const chosen = root.find("/chosen")!;
    expect(chosen.string("bootargs")).toBe("console=ttyS0 earlycon=sbi");
    expect(chosen.string("stdout-path")).toBe("/soc/serial@10000000");
    expect(chosen.u64("linux,initrd-start")).toBe(0x8400_0000n);
    expect(chosen.u64("linux,initrd-end")).toBe(0x8410_0000n);
    expect(chosen.prop("rng-seed")).toBeUndefined();
    const test = root.find("/soc/test@100000")!;
    expect(test.strings("compatible")).toEqual(["sifive,test1", "sifive,test0", "syscon"]);
    const phandle = test.u32("phandle");
    expect(root.find("/poweroff")?.u32("regmap")).toBe(phandle);
    expect(root.find("/poweroff")?.u32("value")).toBe(0x5555);
    expect(root.find("/poweroff")?.string("compatible")).toBe("syscon-poweroff");
    expect(root.find("/reboot")?.u32("value")).toBe(0x7777);
  });

  it("wires the CLINT and PLIC to the hart's interrupt controller and devices to the PLIC", () => {
    const intc = root.find("/cpus/cpu@0/interrupt-controller")!.u32("phandle");
    const soc = root.find("/soc")!;
    expect(soc.string("compatible")).toBe("simple-bus");
    expect(soc.prop("ranges")).toEqual(new Uint8Array(0));
    const clint = soc.child("clint@2000000")!;
    expect(clint.strings("compatible")).toEqual(["sifive,clint0", "riscv,clint0"]);
    expect(clint.cells("interrupts-extended")).toEqual([intc, 3, intc, 7]);
    const plic = soc.child("plic@c000000")!;
    expect(plic.strings("compatible")).toEqual(["sifive,plic-1.0.0", "riscv,plic0"]);
    expect(plic.cells("interrupts-extended")).toEqual([intc, 11, intc, 9]);
    expect(plic.cells("reg")).toEqual([0, 0xc00_0000, 0, 0x60_0000]);
    expect(plic.u32("riscv,ndev")).toBe(95);
    const serial = soc.child("serial@10000000")!;
    expect(serial.string("compatible")).toBe("ns16550a");
    expect(serial.u32("clock-frequency")).toBe(3_686_400);
    expect(serial.u32("interrupts")).toBe(10);
    expect(serial.u32("interrupt-parent")).toBe(plic.u32("phandle"));
    for (let i = 0; i < 8; i++) {
      const v = soc.child(`virtio_mmio@${(0x1000_1000 + 0x1000 * i).toString(16)}`)!;
      expect(v.string("compatible")).toBe("virtio,mmio");
      expect(v.u32("interrupts")).toBe(1 + i);
    }
  });

  it("leaves out bootargs and initrd when not given", () => {
    const chosen = readDtb(board.devicetree()).root.find("/chosen")!;
    expect([...chosen.properties.keys()]).toEqual(["stdout-path"]);
  });

  it.skipIf(!dtc)("dtc decompiles it without warnings", () => {
    const dir = mkdtempSync(join(tmpdir(), "hvkit-virt-"));
    writeFileSync(join(dir, "virt.dtb"), dtb);
    const out = execFileSync("sh", ["-c", `dtc -I dtb -O dts ${join(dir, "virt.dtb")} 2>&1 >/dev/null`], {
      encoding: "utf8",
    });
    expect(out).toBe("");
  });
});

describe("the guest's view", () => {
  it("the test device powers off with a failure code", () => {
    const g = guest(`
_start:
  li t0, 0x100000
  li t1, ${FINISHER_FAIL | (42 << 16)}
  sw t1, 0(t0)
1: j 1b
`);
    expect(g.run()).toMatchObject({ reason: "poweroff", powerOff: { pass: false, code: 42 } });
    expect(g.board.powerOff).toEqual({ pass: false, code: 42 });
    // A powered-off board stays off until reset.
    expect(g.run().reason).toBe("poweroff");
  });

  it("the test device asks for a reset; reset() clears it and keeps RAM", () => {
    let resets = 0;
    const g = guest(
      `
_start:
  li t0, 0x100000
  li t1, 0x7777
  sw t1, 0(t0)
1: j 1b
`,
      { onReset: () => resets++ },
    );
    expect(g.run().reason).toBe("reset");
    expect(resets).toBe(1);
    const word = g.board.ram[0];
    g.board.reset();
    expect(g.board.resetRequested).toBe(false);
    expect(g.board.hart.pc).toBe(0x8000_0000n);
    expect(g.board.ram[0]).toBe(word);
    expect(g.run().reason).toBe("reset"); // the same program runs again
  });

  it("empty virtio-mmio slots read magic, version 2 and device ID 0, and ignore writes", () => {
    const g = guest(`
_start:
  li s0, 0x10001000
  li s1, 0x10008000
  lw s2, 0(s0)          # MagicValue
  lw s3, 4(s0)          # Version
  lw s4, 8(s1)          # DeviceID of the last slot
  lw s5, 12(s0)         # VendorID
  li t0, 1
  sw t0, 0x70(s0)       # Status: ignored
  lw s6, 0x70(s0)
  li t0, 0x100000
  li t1, 0x5555
  sw t1, 0(t0)
1: j 1b
`);
    expect(g.run().reason).toBe("poweroff");
    const x = (i: number) => Number(g.board.hart.getX(i) & 0xffff_ffffn);
    expect([x(18), x(19), x(20), x(21) !== 0, x(22)]).toEqual([0x7472_6976, 2, 0, true, 0]);
  });

  it("a load from a hole is a load access fault the guest sees, and is counted", () => {
    const g = guest(`
_start:
  la t0, trap
  csrw mtvec, t0
  li t0, 0x3000000
  lw t1, 0(t0)
  j _start
trap:
  csrr s2, mcause
  csrr s3, mtval
  li t0, 0x100000
  li t1, 0x5555
  sw t1, 0(t0)
1: j 1b
`);
    expect(g.run().reason).toBe("poweroff");
    expect(g.board.hart.getX(18)).toBe(5n); // load access fault
    expect(g.board.hart.getX(19)).toBe(0x300_0000n);
    expect(g.board.counters().unmappedReads).toBe(1);
  });

  it("bad-size accesses read as open bus (0) and are counted per device", () => {
    const g = guest(`
_start:
  li t0, 0xc000000
  lb s2, 40(t0)         # PLIC registers are 32-bit
  li t0, 0x10000000
  lw s3, 0(t0)          # UART registers are 8-bit
  li t0, 0x100000
  li t1, 0x5555
  sw t1, 0(t0)
1: j 1b
`);
    expect(g.run().reason).toBe("poweroff");
    expect([g.board.hart.getX(18), g.board.hart.getX(19)]).toEqual([0n, 0n]);
    const c = g.board.counters();
    expect(c.devices.plic!.badAccesses).toBe(1);
    expect(c.devices.uart0!.badAccesses).toBe(1);
    expect(c.devices.plic!.reads).toBe(1);
  });
});

describe("virtio slots", () => {
  it("a factory gets the slot's base, PLIC source, interrupt line and RAM", () => {
    const seen: string[] = [];
    class Fake implements Device {
      readonly name = "fake";
      readonly size = 0x200;
      badAccesses = 0;
      constructor(readonly raise: (l: boolean) => void) {}
      read(offset: number): number {
        return offset === 8 ? 2 : 0; // a block device ID
      }
      write(offset: number, _size: 1 | 2 | 4 | 8, lo: number): void {
        seen.push(`${offset}=${lo}`);
        if (offset === 0x50) this.raise(true);
      }
    }
    let ctx: { slot: number; base: number; plicSource: number; ramBase: number; ram: Uint8Array } | undefined;
    const board = new VirtBoard({
      ramSize: MIB,
      virtio: [
        undefined,
        undefined,
        (c) => {
          ctx = c;
          return new Fake(c.irq);
        },
      ],
    });
    expect(ctx).toMatchObject({ slot: 2, base: 0x1000_3000, plicSource: 3, ramBase: 0x8000_0000 });
    expect(ctx!.ram).toBe(board.ram);
    expect(board.virtio[2]!.name).toBe("fake");
    expect(board.virtio[0]).toBeInstanceOf(VirtioMmioEmpty);
    expect(board.bus.load(0x1000_3008, 4) && board.bus.dataLo).toBe(2);
    expect(board.bus.load(0x1000_3200, 4)).toBe(false); // past the device's own size
    board.bus.store(0x1000_3050, 4, 0, 0);
    expect(seen).toEqual(["80=0"]);
    expect(board.plic.getState().pending[0]).toBe(1 << 3);
  });

  it("slot devices take part in reset and device snapshots when they implement them", () => {
    const calls: string[] = [];
    const dev = {
      name: "stateful",
      size: 0x100,
      badAccesses: 0,
      n: 0,
      read: () => 0,
      write() {
        dev.n++;
      },
      reset: () => calls.push("reset"),
      getState: () => ({ n: dev.n }),
      setState: (st: { n: number }) => {
        dev.n = st.n;
        calls.push(`set ${st.n}`);
      },
    };
    const board = new VirtBoard({ ramSize: MIB, virtio: [() => dev] });
    board.bus.store(0x1000_1000, 4, 0, 0);
    const st = board.getDeviceState();
    expect(st.virtio[0]).toEqual({ n: 1 });
    expect(st.virtio[1]).toEqual({}); // an empty slot
    board.reset();
    board.setDeviceState(st);
    expect(calls).toEqual(["reset", "set 1"]);
    expect(() => board.setDeviceState({ ...st, virtio: [] })).toThrow(/virtio must be an array of 8/);
  });

  it("refuses a device larger than a slot", () => {
    const big: Device = { name: "big", size: 0x2000, badAccesses: 0, read: () => 0, write: () => {} };
    expect(() => new VirtBoard({ ramSize: MIB, virtio: [() => big] })).toThrow(/slot is 0x1000/);
  });
});

describe("SiFive test device", () => {
  it("decodes pass, fail with code, and reset; ignores other values, offsets and sizes", () => {
    const events: string[] = [];
    const t = new SifiveTest({
      onPowerOff: (s) => events.push(`off ${s.pass} ${s.code}`),
      onReset: () => events.push("reset"),
    });
    t.write(0, 4, 0x5555, 0);
    t.write(0, 4, 0x0003_3333, 0);
    t.write(0, 4, 0x7777, 0);
    t.write(0, 4, 0x1234, 0);
    t.write(4, 4, 0x5555, 0);
    t.write(0, 1, 0x55, 0);
    expect(events).toEqual(["off true 0", "off false 3", "reset"]);
    expect(t.read(0, 4)).toBe(0);
    expect(t.badAccesses).toBe(1);
  });
});

describe("booting Linux", () => {
  function image(): Uint8Array {
    const b = new Uint8Array(0x10000);
    const dv = new DataView(b.buffer);
    dv.setBigUint64(8, 0x20_0000n, true);
    dv.setBigUint64(16, 0x40_0000n, true);
    dv.setUint32(32, 2, true);
    b.set(Uint8Array.of(0x52, 0x53, 0x43, 0x05), 56);
    return b;
  }

  it("loadLinux places kernel, devicetree and initrd without overlap and describes the initrd", () => {
    const board = new VirtBoard({ ramSize: 64 * MIB });
    const initrd = new Uint8Array(3 * MIB).fill(0x42);
    const info = board.loadLinux({ kernel: gzipSync(image()), initrd, bootargs: "console=ttyS0" });
    expect(info.entry).toBe(0x8020_0000);
    expect(info.kernel).toEqual({ start: 0x8020_0000, end: 0x8060_0000 });
    expect(info.dtb.start).toBe(0x8000_0000 + 62 * MIB);
    const r = info.initrd!;
    const regions = [info.kernel, info.dtb, r].sort((a, b) => a.start - b.start);
    for (let i = 1; i < regions.length; i++)
      expect(regions[i]!.start).toBeGreaterThanOrEqual(regions[i - 1]!.end);
    expect(board.ram[r.start - board.ramBase]).toBe(0x42);
    const dt = readDtb(board.ram.subarray(info.dtb.start - board.ramBase, info.dtb.end - board.ramBase)).root;
    expect(dt.find("/chosen")?.u64("linux,initrd-start")).toBe(BigInt(r.start));
    expect(dt.find("/chosen")?.u64("linux,initrd-end")).toBe(BigInt(r.end));
    expect(dt.find("/chosen")?.string("bootargs")).toBe("console=ttyS0");
  });

  it("without an initrd, the devicetree has no initrd properties", () => {
    const board = new VirtBoard({ ramSize: 16 * MIB });
    const info = board.loadLinux({ kernel: image() });
    expect(info.initrd).toBeUndefined();
    const dt = readDtb(board.ram.subarray(info.dtb.start - board.ramBase)).root;
    expect(dt.find("/chosen")?.prop("linux,initrd-start")).toBeUndefined();
  });
});

describe("counters and state", () => {
  it("device state round-trips through JSON into a fresh board", () => {
    const a = new VirtBoard({ ramSize: MIB });
    a.bus.store(0x0c00_0028, 4, 1, 0); // priority[10] = 1
    a.bus.store(0x0c00_2080, 4, 1 << 10, 0); // enable source 10 in context 1
    a.bus.store(0x1000_0001, 1, 1, 0); // IER: received data
    a.uart.receive([0x41]);
    a.bus.store(0x0200_4000, 8, 1234, 0);
    const st = JSON.parse(JSON.stringify(a.getDeviceState()));
    const b = new VirtBoard({ ramSize: MIB });
    b.setDeviceState(st);
    expect(b.getDeviceState()).toEqual(a.getDeviceState());
    expect(b.hart.mip() & (1 << 9)).not.toBe(0); // SEIP re-driven from the restored PLIC
    expect(b.bus.load(0x1000_0000, 1) && b.bus.dataLo).toBe(0x41);
    expect(() => b.setDeviceState({ ...st, uart0: 5 })).toThrow(MachineError);
  });

  it("reset() returns every device to its reset state", () => {
    const board = new VirtBoard({ ramSize: MIB });
    const fresh = board.getDeviceState();
    board.bus.store(0x0c00_0028, 4, 1, 0);
    board.bus.store(0x1000_0003, 1, 0x83, 0);
    board.bus.store(0x0200_0000, 4, 1, 0);
    board.reset();
    expect(board.getDeviceState()).toEqual(fresh);
    expect(board.hart.mip()).toBe(0);
  });

  it("uses QEMU's PLIC source numbers and slot count", () => {
    expect(VIRT_IRQ).toEqual({ uart0: 10, virtio: 1 });
    expect(VIRT_MEMORY_MAP.virtio.count).toBe(8);
  });
});
