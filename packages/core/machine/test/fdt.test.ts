/**
 * Flattened devicetree writer and reader (Devicetree Specification 0.4,
 * chapter 5): header fields, block layout and alignment, string
 * deduplication, builder misuse, reader validation, and a cross-check with
 * dtc when it is installed.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FDT_MAGIC, FdtBuilder, MachineError, readDtb } from "../src/index.js";

function sample(): Uint8Array {
  return new FdtBuilder({ bootCpuId: 0 })
    .addReservation(0x8000_0000, 0x20_0000)
    .beginNode("")
    .propU32("#address-cells", 2)
    .propU32("#size-cells", 2)
    .propString("compatible", "test,board")
    .beginNode("chosen")
    .propString("bootargs", "console=ttyS0")
    .propU64("linux,initrd-start", 0x1_2345_6789n)
    .endNode()
    .beginNode("node@1000")
    .propU32("#size-cells", 0) // a second use of the name: stored once
    .propStrings("compatible", ["a,b", "c"])
    .propEmpty("interrupt-controller")
    .propCells("reg", [0, 0x1000, 0, 0x100])
    .property("blob", Uint8Array.of(1, 2, 3))
    .endNode()
    .endNode()
    .finish();
}

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof MachineError) return e.code;
    throw e;
  }
  return "no error";
}

let dtc: boolean;
try {
  execFileSync("dtc", ["--version"], { stdio: "ignore" });
  dtc = true;
} catch {
  dtc = false;
}

describe("FdtBuilder", () => {
  it("writes a v17 header whose offsets and sizes describe the blocks in order", () => {
    const b = sample();
    const dv = new DataView(b.buffer);
    const h = (i: number) => dv.getUint32(i * 4);
    expect(h(0)).toBe(FDT_MAGIC);
    expect(h(1)).toBe(b.length); // totalsize
    expect(h(4)).toBe(40); // mem rsvmap right after the header, 8-aligned
    expect(h(2)).toBe(40 + 2 * 16); // struct after one entry plus the terminator
    expect(h(3)).toBe(h(2) + h(9)); // strings after struct
    expect(h(3) + h(8)).toBe(b.length);
    expect([h(5), h(6), h(7)]).toEqual([17, 16, 0]);
    expect(h(2) % 4).toBe(0);
    expect(dv.getUint32(h(2) + h(9) - 4)).toBe(9); // FDT_END closes the structure block
  });

  it("stores each property name once in the strings block", () => {
    const b = sample();
    const dv = new DataView(b.buffer);
    const strings = new TextDecoder().decode(
      b.subarray(dv.getUint32(12), dv.getUint32(12) + dv.getUint32(32)),
    );
    const names = strings.split("\0").filter((s) => s !== "");
    expect(names).toEqual([...new Set(names)]);
    expect(names).toContain("#size-cells");
    expect(names.filter((n) => n === "compatible")).toHaveLength(1);
  });

  it("reads back what it wrote", () => {
    const t = readDtb(sample());
    expect(t.version).toBe(17);
    expect(t.reservations).toEqual([{ address: 0x8000_0000n, size: 0x20_0000n }]);
    const root = t.root;
    expect(root.name).toBe("");
    expect(root.u32("#address-cells")).toBe(2);
    expect(root.string("compatible")).toBe("test,board");
    expect(root.find("/chosen")?.string("bootargs")).toBe("console=ttyS0");
    expect(root.find("chosen")?.u64("linux,initrd-start")).toBe(0x1_2345_6789n);
    const n = root.find("/node@1000")!;
    expect(n.strings("compatible")).toEqual(["a,b", "c"]);
    expect(n.prop("interrupt-controller")).toEqual(new Uint8Array(0));
    expect(n.cells("reg")).toEqual([0, 0x1000, 0, 0x100]);
    expect(Array.from(n.prop("blob")!)).toEqual([1, 2, 3]);
    expect(n.cells("blob")).toBeUndefined(); // not whole cells
    expect(root.find("/nope")).toBeUndefined();
  });

  it("refuses misuse with MACHINE_FDT_USAGE", () => {
    expect(code(() => new FdtBuilder().beginNode("x"))).toBe("MACHINE_FDT_USAGE"); // root must be ""
    expect(code(() => new FdtBuilder().finish())).toBe("MACHINE_FDT_USAGE");
    expect(code(() => new FdtBuilder().beginNode("").finish())).toBe("MACHINE_FDT_USAGE");
    expect(code(() => new FdtBuilder().endNode())).toBe("MACHINE_FDT_USAGE");
    expect(code(() => new FdtBuilder().propU32("x", 1))).toBe("MACHINE_FDT_USAGE");
    expect(code(() => new FdtBuilder().beginNode("").beginNode("bad name"))).toBe("MACHINE_FDT_USAGE");
    expect(code(() => new FdtBuilder().beginNode("").beginNode("a".repeat(32)))).toBe("MACHINE_FDT_USAGE");
    expect(code(() => new FdtBuilder().beginNode("").propU32("bad name", 1))).toBe("MACHINE_FDT_USAGE");
    expect(code(() => new FdtBuilder().beginNode("").propU32("a", 1).propU32("a", 2))).toBe(
      "MACHINE_FDT_USAGE",
    );
    expect(code(() => new FdtBuilder().beginNode("").propU32("a", 2 ** 32))).toBe("MACHINE_FDT_USAGE");
    expect(code(() => new FdtBuilder().beginNode("").propString("a", "x\0y"))).toBe("MACHINE_FDT_USAGE");
    expect(code(() => new FdtBuilder().beginNode("").endNode().beginNode(""))).toBe("MACHINE_FDT_USAGE");
    expect(code(() => new FdtBuilder().beginNode("").beginNode("a").endNode().beginNode("a"))).toBe(
      "MACHINE_FDT_USAGE",
    );
    expect(code(() => new FdtBuilder().addReservation(-1, 0))).toBe("MACHINE_FDT_USAGE");
  });
});

describe("readDtb", () => {
  it("rejects bad input with MACHINE_IMAGE_MALFORMED", () => {
    const good = sample();
    const patch = (at: number, v: number) => {
      const b = good.slice();
      new DataView(b.buffer).setUint32(at, v);
      return b;
    };
    expect(code(() => readDtb(good.subarray(0, 20)))).toBe("MACHINE_IMAGE_MALFORMED");
    expect(code(() => readDtb(patch(0, 0xdeadbeef)))).toBe("MACHINE_IMAGE_MALFORMED");
    expect(code(() => readDtb(good.subarray(0, good.length - 1)))).toBe("MACHINE_IMAGE_MALFORMED"); // totalsize
    expect(code(() => readDtb(patch(20, 15)))).toBe("MACHINE_IMAGE_MALFORMED"); // version
    expect(code(() => readDtb(patch(36, 0xffff)))).toBe("MACHINE_IMAGE_MALFORMED"); // struct size
    const structOff = new DataView(good.buffer).getUint32(8);
    expect(code(() => readDtb(patch(structOff, 7)))).toBe("MACHINE_IMAGE_MALFORMED"); // bad token
    expect(code(() => readDtb(patch(structOff, 2)))).toBe("MACHINE_IMAGE_MALFORMED"); // END_NODE first
  });

  it("never throws anything but MachineError on random corruption", () => {
    const good = sample();
    let s = 12345;
    for (let i = 0; i < 2000; i++) {
      const b = good.slice();
      for (let k = 0; k < 3; k++) {
        s = (s * 1103515245 + 12345) >>> 0;
        b[s % b.length] = s >>> 24;
      }
      try {
        readDtb(b);
      } catch (e) {
        expect(e).toBeInstanceOf(MachineError);
      }
    }
  });
});

describe.skipIf(!dtc)("cross-check with dtc", () => {
  it("dtc decompiles our blob and recompiles it to the same tree", () => {
    const dir = mkdtempSync(join(tmpdir(), "hvkit-fdt-"));
    writeFileSync(join(dir, "a.dtb"), sample());
    const dts = execFileSync("dtc", ["-I", "dtb", "-O", "dts", join(dir, "a.dtb")], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    expect(dts).toContain('bootargs = "console=ttyS0";');
    expect(dts).toContain("/memreserve/\t0x0000000080000000 0x0000000000200000;");
    expect(dts).toContain('compatible = "a,b\\0c";');
    const back = execFileSync("dtc", ["-I", "dts", "-O", "dtb", "-"], { input: dts });
    const t1 = readDtb(new Uint8Array(back));
    const t2 = readDtb(sample());
    expect(JSON.stringify(t1.root, replacer)).toBe(JSON.stringify(t2.root, replacer));
  });
});

function replacer(_key: string, v: unknown): unknown {
  if (v instanceof Map) return [...v].map(([k, x]) => [k, Array.from(x as Uint8Array)]);
  return v;
}
