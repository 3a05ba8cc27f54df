/**
 * Debian's riscv64 kernel and busybox initramfs (from `pnpm linux:fetch`)
 * boot through `hvkit run --kernel` to the init script's BOOT-OK and power
 * off cleanly. Locally the test skips when the cache is empty; in CI
 * (CI set) a missing cache is a failure.
 */
import { readFileSync } from "node:fs";
import { readLinuxManifest } from "@hvkit/guests/node";
import { describe, expect, it } from "vitest";
import { main } from "../src/main.js";
import { argv, memoryIo } from "./helpers.js";

const manifest = readLinuxManifest();
const inCi = !!process.env.CI;

describe.skipIf(!manifest && !inCi)("hvkit run --kernel with Debian's kernel and a busybox initramfs", () => {
  it("boots to BOOT-OK and exits with 0", async () => {
    if (!manifest)
      throw new Error("no Linux artifacts in the cache: run `pnpm linux:fetch` before the tests");
    const io = memoryIo({
      kernel: readFileSync(manifest.kernel.path),
      "initramfs.cpio.gz": readFileSync(manifest.initramfs.path),
    });
    const code = await main(
      argv(
        "run",
        "--kernel",
        "kernel",
        "--initrd",
        "initramfs.cpio.gz",
        "--append",
        "console=ttyS0",
        "--max-steps",
        "2.5e9",
      ),
      io,
    );
    expect(io.out).toContain("BOOT-OK");
    expect(io.out).toContain("EXIT-STATUS=0");
    expect(io.err).toBe("");
    expect(code).toBe(0);
  }, 300_000);
});
