/**
 * `hvkit run --disk FILE --disk-backend virtio|emulated|passthrough`: the
 * hvkit kernel's io workload through each backend on a real image file, and
 * the typed errors for what cannot work.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readHvkitImage } from "@hvkit/guests/node";
import { registerStrategy, type StrategyDefinition } from "@hvkit/hypervisor";
import { trapAndEmulateSfence } from "@hvkit/trap-and-emulate";
import { afterAll, describe, expect, it } from "vitest";
import { type GuestRunStats, main } from "../src/main.js";
import { argv, memoryIo } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "hvkit-cli-disk-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const kernel = readHvkitImage("hvkit-kernel.elf");

/** A strategy of a CPU technique that does not map assigned devices (for the refusal). */
const paravirtLike: StrategyDefinition = {
  ...trapAndEmulateSfence,
  name: "test-paravirt-like",
  techniques: { cpu: "paravirt", memory: "paravirt", io: ["virtio"] },
};
registerStrategy(paravirtLike);

async function run(...args: string[]) {
  const io = memoryIo({ "kernel.elf": kernel });
  const code = await main(argv("run", "--kernel", "kernel.elf", "--memory", "64M", ...args), io);
  const stats = io.files.get("stats.json");
  return {
    code,
    io,
    stats: stats ? (JSON.parse(new TextDecoder().decode(stats)) as GuestRunStats) : undefined,
  };
}

describe("hvkit run --disk", () => {
  it("--disk-backend virtio|emulated|passthrough: the io workload on an image file, MMIO exits in that order", async () => {
    const mmio: Record<string, number> = {};
    for (const [backend, device] of [
      ["virtio", "virtio-blk"],
      ["emulated", "pio-blk"],
      ["passthrough", "virtio-blk"],
    ] as const) {
      const file = join(dir, `${backend}.raw`);
      writeFileSync(file, new Uint8Array(1 << 20));
      const r = await run(
        ...["--append", "workload=io n=8", "--strategy", "trap-and-emulate", "--stats-json", "stats.json"],
        ...["--disk", file, "--disk-backend", backend],
      );
      expect(r.code).toBe(0);
      expect(r.io.out).toContain(`block device ${device} at 0x10001000, 2048 sectors`);
      expect(r.io.out).toMatch(/CHECK io n=8 bytes=4096 crc32=0x[0-9a-f]+ mismatched=0 ok/);
      mmio[backend] = r.stats!.exits.byReason.mmio ?? 0;
      // The workload's sectors are in the file.
      expect(
        readFileSync(file)
          .subarray(0, 8 * 512)
          .some((b) => b !== 0),
      ).toBe(true);
    }
    // 8 blocks: 267 exits each through the emulated controller; virtio pays its setup and
    // 2 kicks a block, which the assigned device takes with no exit (same console output).
    expect(mmio.emulated! - mmio.virtio!).toBeGreaterThan(8 * 250);
    expect(mmio.virtio! - mmio.passthrough!).toBeGreaterThanOrEqual(16);
    expect(mmio.virtio! - mmio.passthrough!).toBeLessThan(60);
  }, 60_000);

  it("refuses what cannot work, with typed errors", async () => {
    const file = join(dir, "small.raw");
    writeFileSync(file, new Uint8Array(1 << 16));
    const lonely = await run("--disk-backend", "emulated");
    expect(lonely.code).toBe(2);
    expect(lonely.io.err).toContain("need '--disk <file>'");
    const para = await run(
      "--strategy",
      "test-paravirt-like",
      "--disk",
      file,
      "--disk-backend",
      "passthrough",
    );
    expect(para.code).toBe(1);
    expect(para.io.err).toMatch(/^hvkit: CLI_INVALID_COMBINATION: --disk-backend passthrough needs/);
    const missing = await run("--disk", join(dir, "nope.qcow2"));
    expect(missing.code).toBe(1);
    expect(missing.io.err).toMatch(/^hvkit: DISK_IO: /);
    const corrupt = join(dir, "corrupt.qcow2");
    writeFileSync(corrupt, new Uint8Array([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3, ...new Uint8Array(100)]));
    const bad = await run("--disk", corrupt, "--disk-backend", "emulated");
    expect(bad.code).toBe(1);
    expect(bad.io.err).toMatch(/^hvkit: DISK_[A-Z_]+: /);
  });

  it("--disk-readonly: the guest's writes fail and the file is untouched", async () => {
    const file = join(dir, "ro.raw");
    writeFileSync(file, new Uint8Array(1 << 20));
    const r = await run(
      "--append",
      "workload=io n=4",
      "--disk",
      file,
      "--disk-backend",
      "emulated",
      "--disk-readonly",
    );
    expect(r.io.out).toContain("pio-blk at 0x10001000, 2048 sectors, read-only");
    expect(r.code).toBe(1);
    expect(readFileSync(file).every((b) => b === 0)).toBe(true);
  });
});
