// Checks the real Debian kernel and initramfs that `pnpm linux:fetch` cached,
// when they are there; skipped on machines that never ran it.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { gunzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { busyboxAppletNames, INIT_SCRIPT_PATH, inspectKernelImage, readCpio } from "../src/index.js";
import { buildInitramfsFromFiles, readLinuxManifest } from "../src/node/index.js";

const manifest = readLinuxManifest();

describe.skipIf(manifest === undefined)("the cached Debian guest (pnpm linux:fetch)", () => {
  const m = manifest!;

  it("has a RISC-V Image kernel that is also an EFI application", () => {
    const head = new Uint8Array(readFileSync(m.kernel.path).subarray(0, 4096));
    const info = inspectKernelImage(head);
    expect(info.format).toBe("riscv-image");
    if (info.format !== "riscv-image") return;
    expect(info.efi).toBe(true);
    expect(info.header.textOffset).toBe(m.kernel.textOffset);
    expect(info.header.imageSize).toBeGreaterThanOrEqual(m.kernel.size);
    expect(info.header.textOffset % 4096).toBe(0);
  });

  it("has an initramfs that rebuilds byte for byte from the cached busybox", () => {
    const gz = readFileSync(m.initramfs.path);
    const members = readCpio(gunzipSync(gz));
    const busybox = members.find((r) => r.name === "bin/busybox")!;
    expect(busyboxAppletNames(busybox.data)?.length).toBe(m.busybox.applets);
    expect(members.some((r) => r.name === INIT_SCRIPT_PATH.slice(1))).toBe(true);
    const script = new TextDecoder().decode(members.find((r) => r.name === INIT_SCRIPT_PATH.slice(1))!.data);
    const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
    expect(sha(new TextEncoder().encode(script))).toBe(m.initramfs.scriptSha256);
    if (script.startsWith("uname -a\ncat /proc/cpuinfo\necho BOOT-OK")) {
      expect(sha(buildInitramfsFromFiles({ busyboxPath: m.busybox.path }).data)).toBe(m.initramfs.sha256);
    }
  });
});
