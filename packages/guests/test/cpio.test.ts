import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  type CpioEntry,
  GuestsError,
  readCpio,
  S_IFCHR,
  S_IFDIR,
  S_IFLNK,
  S_IFREG,
  writeCpio,
} from "../src/index.js";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

const sample: CpioEntry[] = [
  { type: "dir", path: "/bin" },
  {
    type: "file",
    path: "/bin/busybox",
    data: new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 1, 2, 3]),
    mode: 0o755,
  },
  { type: "symlink", path: "/bin/sh", target: "busybox" },
  { type: "char", path: "/dev/console", major: 5, minor: 1 },
  { type: "block", path: "/dev/vda", major: 254, minor: 0, mode: 0o660 },
  { type: "file", path: "/init", data: "#!/bin/sh\necho hi\n", mode: 0o755 },
  { type: "dir", path: "/tmp", mode: 0o1777 },
];

const hostHas = (cmd: string) => spawnSync(cmd, ["--version"], { stdio: "ignore" }).error === undefined;

describe("writeCpio / readCpio", () => {
  it("writes the newc header byte for byte as cpio(5) and gen_init_cpio lay it out", () => {
    const out = writeCpio([{ type: "file", path: "a", data: "hi" }]);
    const header = (ino: string, mode: string, nlink: string, size: string, namesize: string) =>
      `070701${ino}${mode}0000000000000000${nlink}00000000${size}00000000000000000000000000000000${namesize}00000000`;
    const expected =
      `${header("00000001", "000081a4", "00000001", "00000002", "00000002")}a\0` +
      "hi\0\0" +
      `${header("00000000", "00000000", "00000001", "00000000", "0000000b")}TRAILER!!!\0\0\0\0`;
    expect(text(out)).toBe(expected);
    expect(out.length % 4).toBe(0);
  });

  it("round-trips every member type, sorted with parents first", () => {
    const records = readCpio(writeCpio(sample));
    expect(records.map((r) => r.name)).toEqual([
      "bin",
      "bin/busybox",
      "bin/sh",
      "dev",
      "dev/console",
      "dev/vda",
      "init",
      "tmp",
    ]);
    const by = new Map(records.map((r) => [r.name, r]));
    expect(by.get("bin")).toMatchObject({ type: "dir", mode: S_IFDIR | 0o755, nlink: 2 });
    expect(by.get("dev")).toMatchObject({ type: "dir", mode: S_IFDIR | 0o755 }); // added as a parent
    expect(by.get("tmp")!.mode).toBe(S_IFDIR | 0o1777);
    expect(by.get("bin/busybox")).toMatchObject({ type: "file", mode: S_IFREG | 0o755, nlink: 1 });
    expect([...by.get("bin/busybox")!.data]).toEqual([0x7f, 0x45, 0x4c, 0x46, 1, 2, 3]);
    expect(by.get("bin/sh")).toMatchObject({ type: "symlink", mode: S_IFLNK | 0o777 });
    expect(text(by.get("bin/sh")!.data)).toBe("busybox");
    expect(by.get("dev/console")).toMatchObject({
      type: "char",
      mode: S_IFCHR | 0o600,
      rdevMajor: 5,
      rdevMinor: 1,
    });
    expect(by.get("dev/vda")).toMatchObject({ type: "block", rdevMajor: 254, rdevMinor: 0 });
    expect(text(by.get("init")!.data)).toBe("#!/bin/sh\necho hi\n");
    for (const r of records) expect(r).toMatchObject({ uid: 0, gid: 0, mtime: 0 });
    expect(new Set(records.map((r) => r.ino)).size).toBe(records.length);
  });

  it("is deterministic: same members in any order give identical bytes", () => {
    const a = writeCpio(sample);
    const b = writeCpio([...sample].reverse());
    const c = writeCpio(sample.map((e) => ({ ...e })));
    expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true);
    expect(Buffer.from(c).equals(Buffer.from(a))).toBe(true);
  });

  it("stamps the requested mtime and inode base", () => {
    const records = readCpio(writeCpio(sample, { mtime: 1_700_000_000, firstInode: 721 }));
    expect(records.every((r) => r.mtime === 1_700_000_000)).toBe(true);
    expect(records.map((r) => r.ino)).toEqual(records.map((_, i) => 721 + i));
  });

  it("sorts by name bytes, so a directory precedes its children even next to names with '-'", () => {
    const names = readCpio(
      writeCpio([
        { type: "file", path: "bin/x", data: "" },
        { type: "file", path: "bin-x", data: "" },
      ]),
    );
    expect(names.map((r) => r.name)).toEqual(["bin", "bin-x", "bin/x"]);
  });

  it("rejects paths it cannot represent, with stable codes", () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof GuestsError ? e.code : "other";
      }
      return "none";
    };
    expect(code(() => writeCpio([{ type: "dir", path: "a/../b" }]))).toBe("GUESTS_BAD_PATH");
    expect(code(() => writeCpio([{ type: "dir", path: "/" }]))).toBe("GUESTS_BAD_PATH");
    expect(code(() => writeCpio([{ type: "dir", path: "a//b" }]))).toBe("GUESTS_BAD_PATH");
    expect(
      code(() =>
        writeCpio([
          { type: "dir", path: "a" },
          { type: "dir", path: "/a/" },
        ]),
      ),
    ).toBe("GUESTS_DUPLICATE_PATH");
    expect(
      code(() =>
        writeCpio([
          { type: "file", path: "a", data: "" },
          { type: "dir", path: "a/b" },
        ]),
      ),
    ).toBe("GUESTS_BAD_PATH");
    expect(code(() => writeCpio([{ type: "dir", path: "a/b" }], { parents: false }))).toBe("GUESTS_BAD_PATH");
    expect(code(() => writeCpio([{ type: "char", path: "c", major: -1, minor: 0 }]))).toBe(
      "GUESTS_TOO_LARGE",
    );
  });

  it("reports a damaged archive instead of misreading it", () => {
    const good = writeCpio(sample);
    expect(() => readCpio(good.subarray(0, good.length - 20))).toThrow(/TRAILER/);
    const bad = good.slice();
    bad[0] = 0x71;
    expect(() => readCpio(bad)).toThrow(/magic/);
    expect(() => readCpio(new Uint8Array(0))).toThrowError(GuestsError);
  });

  it.skipIf(!hostHas("cpio"))("is listed by the host's GNU cpio with the right types", () => {
    const dir = mkdtempSync(join(tmpdir(), "hvkit-cpio-"));
    try {
      const file = join(dir, "a.cpio");
      writeFileSync(file, writeCpio(sample));
      const names = execFileSync("cpio", ["-t", "--quiet", "-F", file], { encoding: "utf8" })
        .trim()
        .split("\n");
      expect(names).toEqual(readCpio(writeCpio(sample)).map((r) => r.name));
      const long = execFileSync("cpio", ["-tv", "--quiet", "-F", file], { encoding: "utf8" });
      expect(long).toMatch(/^crw------- .*dev\/console$/m);
      expect(long).toMatch(/^brw-rw---- .*dev\/vda$/m);
      expect(long).toMatch(/^lrwxrwxrwx .*bin\/sh -> busybox$/m);
      expect(long).toMatch(/^drwxrwxrwt .*tmp$/m);
      // Extraction (no device nodes, which need privileges) gives back the file contents.
      const files = writeCpio(sample.filter((e) => e.type !== "char" && e.type !== "block"));
      writeFileSync(file, files);
      const out = join(dir, "x");
      execFileSync("sh", ["-c", `mkdir -p "${out}" && cd "${out}" && cpio -id --quiet -F "${file}"`]);
      expect(execFileSync("cat", [join(out, "init")], { encoding: "utf8" })).toBe("#!/bin/sh\necho hi\n");
      expect(execFileSync("readlink", [join(out, "bin/sh")], { encoding: "utf8" }).trim()).toBe("busybox");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
