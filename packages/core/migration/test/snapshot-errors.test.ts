/**
 * A corrupt, truncated or version-mismatched snapshot is refused with a
 * typed error before anything reaches a VM; random damage never gets past
 * the checks or crashes the host.
 */
import { crc32, SnapshotError, Vm } from "@hvkit/hypervisor";
import { describe, expect, it } from "vitest";
import { kernelConfig, runTo } from "./helpers.js";

const vm = Vm.create("emulation", kernelConfig("syscall", 200));
runTo(vm, 2_000_000);
const snap = vm.snapshot();

function refusal(bytes: Uint8Array): string {
  try {
    Vm.restore(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(SnapshotError);
    return (e as SnapshotError).code;
  }
  return "accepted";
}

/** Rewrite the header's CRC after editing it (to reach the version check). */
function fixHeader(bytes: Uint8Array): void {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(16, crc32(bytes, 0, 16), true);
}

describe("snapshot errors", () => {
  it("accepts the intact snapshot", () => {
    expect(refusal(snap)).toBe("accepted");
  });

  it("not a snapshot", () => {
    expect(refusal(new TextEncoder().encode("GIF89a and more"))).toBe("SNAPSHOT_NOT_A_SNAPSHOT");
  });

  it("truncated anywhere", () => {
    for (const cut of [0, 5, 19, 40, snap.length >> 1, snap.length - 9, snap.length - 1]) {
      const code = refusal(snap.subarray(0, cut));
      expect(
        cut === 0 ? ["SNAPSHOT_TRUNCATED", "SNAPSHOT_NOT_A_SNAPSHOT"] : ["SNAPSHOT_TRUNCATED"],
      ).toContain(code);
    }
  });

  it("a newer major version", () => {
    const b = snap.slice();
    new DataView(b.buffer).setUint16(8, 2, true);
    fixHeader(b);
    expect(refusal(b)).toBe("SNAPSHOT_VERSION");
    try {
      Vm.restore(b);
    } catch (e) {
      expect((e as Error).message).toMatch(/version 2\.0; this hvkit reads version 1/);
    }
  });

  it("a flipped bit in every section", () => {
    for (const at of [12, 30, 200, snap.length >> 2, snap.length >> 1, snap.length - 20]) {
      const b = snap.slice();
      b[at]! ^= 0x10;
      expect(refusal(b), `byte ${at}`).toBe("SNAPSHOT_CORRUPT");
    }
  });

  it("trailing garbage", () => {
    const b = new Uint8Array(snap.length + 3);
    b.set(snap);
    expect(refusal(b)).toBe("SNAPSHOT_CORRUPT");
  });

  it("fuzz: random damage is always a typed refusal", () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let i = 0; i < 200; i++) {
      const b = snap.slice(0, rand(4) === 0 ? rand(snap.length) : snap.length);
      for (let k = 1 + rand(4); k > 0; k--) if (b.length > 0) b[rand(b.length)] = rand(256);
      const code = refusal(b);
      expect(code === "accepted" || code.startsWith("SNAPSHOT_"), code).toBe(true);
      // A damaged snapshot can only be accepted if the damage left the bytes unchanged.
      if (code === "accepted") expect(Buffer.from(b).equals(Buffer.from(snap))).toBe(true);
    }
  });

  it("devices that do not fit", () => {
    expect(() =>
      Vm.restore(snap, {
        devices: [() => ({ name: "x", size: 16, read: () => 0, write() {}, badAccesses: 0 })],
      }),
    ).toThrow(expect.objectContaining({ code: "SNAPSHOT_MISMATCH" }));
  });
});
