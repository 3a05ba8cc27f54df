import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { readCpio } from "@hvkit/guests";
import { assembleElf } from "@hvkit/isa";
import { describe, expect, it } from "vitest";
import { main } from "../src/main.js";
import { argv, memoryIo } from "./helpers.js";

/** A RISC-V ELF standing in for busybox (no applet table: the fallback applets are linked). */
const fakeBusybox = (): Uint8Array => assembleElf("_start: j _start\n");

const paths = (cpio: Uint8Array): string[] => readCpio(cpio).map((r) => r.name);

describe("hvkit initramfs", () => {
  it("builds a gzipped busybox initramfs whose /init runs the script", async () => {
    const io = memoryIo({ busybox: fakeBusybox(), "test.sh": "echo hello\n" });
    expect(
      await main(argv("initramfs", "--busybox", "busybox", "--script", "test.sh", "-o", "out.cpio.gz"), io),
    ).toBe(0);
    expect(io.out).toMatch(/^out\.cpio\.gz: \d+ bytes \(cpio \d+ bytes\), \d+ applets\n$/);
    const cpio = new Uint8Array(gunzipSync(io.files.get("out.cpio.gz")!));
    const names = paths(cpio);
    expect(names).toEqual(
      expect.arrayContaining(["init", "bin/busybox", "bin/sh", "dev/console", "etc/hvkit/script.sh"]),
    );
    const script = readCpio(cpio).find((r) => r.name === "etc/hvkit/script.sh")!;
    expect(new TextDecoder().decode(script.data)).toBe("echo hello\n");
  });

  it("writes the plain cpio archive with --no-gzip, with the default script", async () => {
    const io = memoryIo({ busybox: fakeBusybox() });
    expect(await main(argv("initramfs", "--busybox", "busybox", "--no-gzip", "-o", "out.cpio"), io)).toBe(0);
    const cpio = io.files.get("out.cpio")!;
    expect(new TextDecoder().decode(cpio.subarray(0, 6))).toBe("070701");
    const script = readCpio(cpio).find((r) => r.name === "etc/hvkit/script.sh")!;
    expect(new TextDecoder().decode(script.data)).toContain("echo BOOT-OK");
  });

  it("is deterministic", async () => {
    const a = memoryIo({ busybox: fakeBusybox() });
    const b = memoryIo({ busybox: fakeBusybox() });
    await main(argv("initramfs", "--busybox", "busybox", "-o", "o"), a);
    await main(argv("initramfs", "--busybox", "busybox", "-o", "o"), b);
    expect(a.files.get("o")).toEqual(b.files.get("o"));
  });

  it("refuses a busybox that is not for RISC-V (this host's /bin/true) or not an ELF file", async () => {
    let io = memoryIo({ busybox: new Uint8Array(readFileSync("/bin/true")) });
    expect(await main(argv("initramfs", "--busybox", "busybox", "-o", "o"), io)).toBe(1);
    expect(io.err).toMatch(
      /^hvkit: CLI_NOT_RISCV: busybox: an ELF file for e_machine \d+; the guest needs a statically linked riscv64 busybox/,
    );
    expect(io.files.has("o")).toBe(false);
    io = memoryIo({ busybox: "#!/bin/sh\n" });
    expect(await main(argv("initramfs", "--busybox", "busybox", "-o", "o"), io)).toBe(1);
    expect(io.err).toMatch(/^hvkit: CLI_NOT_RISCV: busybox: not an ELF file;/);
  });

  it("names missing files and options", async () => {
    let io = memoryIo();
    expect(await main(argv("initramfs", "--busybox", "nope", "-o", "o"), io)).toBe(1);
    expect(io.err).toBe("hvkit: ENOENT: nope: no such file or directory\n");
    io = memoryIo({ busybox: fakeBusybox() });
    expect(await main(argv("initramfs", "--busybox", "busybox", "--script", "nope.sh", "-o", "o"), io)).toBe(
      1,
    );
    expect(io.err).toBe("hvkit: ENOENT: nope.sh: no such file or directory\n");
    io = memoryIo();
    expect(await main(argv("initramfs", "--busybox", "busybox"), io)).toBe(2);
    expect(io.err).toMatch(/required option '-o, --output <file>' not specified/);
  });
});
