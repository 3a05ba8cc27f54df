import { execFileSync, spawnSync } from "node:child_process";
import { gunzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import {
  buildBusyboxInitramfs,
  busyboxAppletNames,
  busyboxInitramfsEntries,
  DEFAULT_INIT_SCRIPT,
  FALLBACK_APPLETS,
  GuestsError,
  gzipInitramfs,
  INIT_SCRIPT_PATH,
  initProgram,
  readCpio,
  S_IFREG,
} from "../src/index.js";
import { defaultFakeApplets, fakeBusybox } from "./helpers.js";

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const hostHas = (cmd: string) => spawnSync(cmd, ["--version"], { stdio: "ignore" }).error === undefined;

describe("busyboxAppletNames", () => {
  it("reads the applet table a busybox binary carries, without busybox itself", () => {
    expect(busyboxAppletNames(fakeBusybox())).toEqual(defaultFakeApplets.filter((a) => a !== "busybox"));
  });

  it("finds nothing in a binary without a table", () => {
    expect(busyboxAppletNames(new Uint8Array(4096).fill(0x5b))).toBeUndefined();
    expect(busyboxAppletNames(new TextEncoder().encode("x[\0[[\0cat\0\0"))).toBeUndefined();
  });
});

describe("busybox initramfs layout", () => {
  const busybox = fakeBusybox();
  const records = readCpio(buildBusyboxInitramfs({ busybox }));
  const by = new Map(records.map((r) => [r.name, r]));

  it("has busybox, an executable /init, the default script and /dev/console c 5 1", () => {
    expect(Buffer.from(by.get("bin/busybox")!.data).equals(Buffer.from(busybox))).toBe(true);
    expect(by.get("bin/busybox")!.mode).toBe(S_IFREG | 0o755);
    expect(by.get("init")!.mode).toBe(S_IFREG | 0o755);
    expect(text(by.get("init")!.data)).toBe(initProgram());
    expect(text(by.get(INIT_SCRIPT_PATH.slice(1))!.data)).toBe(DEFAULT_INIT_SCRIPT);
    expect(by.get("dev/console")).toMatchObject({ type: "char", rdevMajor: 5, rdevMinor: 1 });
    for (const d of ["proc", "sys", "tmp", "root", "etc"]) expect(by.get(d)?.type).toBe("dir");
  });

  it("links every applet of the binary's table in /bin to busybox", () => {
    const links = records.filter((r) => r.type === "symlink");
    expect(links.map((r) => r.name).sort()).toEqual(
      defaultFakeApplets
        .filter((a) => a !== "busybox")
        .map((a) => `bin/${a}`)
        .sort(),
    );
    for (const l of links) expect(text(l.data)).toBe("busybox");
  });

  it("falls back to a fixed applet list, or takes the caller's", () => {
    const plain = new Uint8Array(100);
    const fallback = readCpio(buildBusyboxInitramfs({ busybox: plain })).filter((r) => r.type === "symlink");
    expect(fallback.length).toBe(FALLBACK_APPLETS.length);
    const mine = readCpio(buildBusyboxInitramfs({ busybox: plain, applets: ["sh", "poweroff"] }));
    expect(mine.filter((r) => r.type === "symlink").map((r) => r.name)).toEqual(["bin/poweroff", "bin/sh"]);
    expect(() => busyboxInitramfsEntries({ busybox: plain, applets: ["../x"] })).toThrowError(GuestsError);
  });

  it("runs the build-time script, reports its status and powers off, in that order", () => {
    const init = initProgram();
    const order = [
      "mount -t proc proc /proc",
      "mount -t sysfs sysfs /sys",
      "mount -t devtmpfs devtmpfs /dev",
      `sh ${INIT_SCRIPT_PATH}`,
      'echo "EXIT-STATUS=$?"',
      "poweroff -f",
    ].map((l) => init.indexOf(l));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(init.startsWith("#!/bin/sh\n")).toBe(true);
  });

  it.skipIf(!hostHas("sh"))("has an /init the host's POSIX sh parses", () => {
    expect(spawnSync("sh", ["-n"], { input: initProgram() }).status).toBe(0);
  });

  it("stores a custom script and extra members", () => {
    const r = readCpio(
      buildBusyboxInitramfs({
        busybox,
        script: "echo custom; exit 3\n",
        extra: [{ type: "file", path: "lib/modules/virtio_mmio.ko", data: "ko" }],
      }),
    );
    const m = new Map(r.map((x) => [x.name, x]));
    expect(text(m.get(INIT_SCRIPT_PATH.slice(1))!.data)).toBe("echo custom; exit 3\n");
    expect(m.get("lib")?.type).toBe("dir");
    expect(text(m.get("lib/modules/virtio_mmio.ko")!.data)).toBe("ko");
  });

  it("is byte-identical across builds, compressed or not", () => {
    const a = buildBusyboxInitramfs({ busybox, script: "echo x\n" });
    const b = buildBusyboxInitramfs({ busybox: busybox.slice(), script: "echo x\n" });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(gzipInitramfs(a)).equals(Buffer.from(gzipInitramfs(b)))).toBe(true);
  });
});

describe("gzipInitramfs", () => {
  const cpio = buildBusyboxInitramfs({ busybox: fakeBusybox() });
  const gz = gzipInitramfs(cpio);

  it("writes a gzip member with mtime 0 that inflates back to the archive", () => {
    expect([gz[0], gz[1], gz[2]]).toEqual([0x1f, 0x8b, 8]); // magic, deflate
    expect([...gz.subarray(4, 8)]).toEqual([0, 0, 0, 0]); // MTIME
    expect(Buffer.from(gunzipSync(gz)).equals(Buffer.from(cpio))).toBe(true);
  });

  it.skipIf(!hostHas("gzip"))("decompresses with the host's gzip", () => {
    const out = execFileSync("gzip", ["-dc"], { input: gz, maxBuffer: 1 << 26 });
    expect(out.equals(Buffer.from(cpio))).toBe(true);
    expect(spawnSync("gzip", ["-t"], { input: gz }).status).toBe(0);
  });
});
