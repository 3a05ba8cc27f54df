import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { main } from "../src/main.js";
import { argv, memoryIo } from "./helpers.js";

describe("usage errors exit with 2 and show the usage", () => {
  it("names an unknown command", async () => {
    const io = memoryIo();
    expect(await main(argv("frobnicate"), io)).toBe(2);
    expect(io.err).toMatch(/^hvkit: unknown command 'frobnicate'/);
    expect(io.err).toContain("Usage: hvkit [options] [command]");
  });

  it("suggests the command meant", async () => {
    const io = memoryIo();
    expect(await main(argv("disasmm", "x.elf"), io)).toBe(2);
    expect(io.err).toContain("unknown command 'disasmm'");
    expect(io.err).toContain("Did you mean disasm?");
  });

  it("names an unknown flag and shows the command's usage", async () => {
    const io = memoryIo();
    expect(await main(argv("disasm", "--frob", "x.elf"), io)).toBe(2);
    expect(io.err).toMatch(/^hvkit: unknown option '--frob'/);
    expect(io.err).toContain("Usage: hvkit disasm [options] <file>");
  });

  it("wants a file", async () => {
    const io = memoryIo();
    expect(await main(argv("disasm"), io)).toBe(2);
    expect(io.err).toMatch(/^hvkit: missing required argument 'file'/);
  });

  it("rejects a second file", async () => {
    const io = memoryIo();
    expect(await main(argv("disasm", "a.elf", "b.elf"), io)).toBe(2);
    expect(io.err).toMatch(/^hvkit: unexpected argument 'b\.elf' \(disasm takes 1\)/);
    expect(io.err).toContain("Usage: hvkit disasm [options] <file>");
  });

  it("shows the usage when no command is given", async () => {
    const io = memoryIo();
    expect(await main(argv(), io)).toBe(2);
    expect(io.err).toContain("Usage: hvkit [options] [command]");
    expect(io.err).toContain("disasm");
    expect(io.err).toContain("asm");
  });

  it("checks asm's --format and -o", async () => {
    let io = memoryIo({ "p.s": "nop\n" });
    expect(await main(argv("asm", "p.s", "-o", "p.out", "--format", "hex"), io)).toBe(2);
    expect(io.err).toMatch(/argument 'hex' is invalid.*Allowed choices are elf, bin/);
    io = memoryIo({ "p.s": "nop\n" });
    expect(await main(argv("asm", "p.s"), io)).toBe(2);
    expect(io.err).toMatch(/required option '-o, --output <out>' not specified/);
  });
});

describe("help", () => {
  it("exits with 0 and prints to stdout", async () => {
    const io = memoryIo();
    expect(await main(argv("--help"), io)).toBe(0);
    expect(io.out).toContain("Usage: hvkit");
    expect(io.err).toBe("");
  });

  it("has a help command", async () => {
    const io = memoryIo();
    expect(await main(argv("help", "disasm"), io)).toBe(0);
    expect(io.out).toContain("--no-aliases");
  });
});

describe("bin.ts", () => {
  it("sets the process exit code", () => {
    const bin = fileURLToPath(new URL("../src/bin.ts", import.meta.url));
    const r = spawnSync(
      process.execPath,
      ["--conditions=@hvkit/source", "--import", "tsx", bin, "disasm", "/nonexistent/x.elf"],
      {
        encoding: "utf8",
      },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("hvkit: ENOENT: /nonexistent/x.elf: no such file or directory\n");
    expect(r.stdout).toBe("");
  });
});
