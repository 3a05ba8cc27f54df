/**
 * One boot of the cached Linux guest under qemu-system-riscv64 (virt board,
 * QEMU's own OpenSBI), as a child process with nothing on its stdin and a
 * time limit. With `icount` the run adds `-icount shift=0` and a QMP socket,
 * and asks QEMU for its executed-instruction count when BOOT-OK appears.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConsoleWatch, checkBoot } from "./console.js";
import { BootBenchError } from "./errors.js";
import type { BootRun } from "./report.js";

/** The QEMU binary looked for on PATH. */
export const QEMU_BINARY = "qemu-system-riscv64";
/** How to get it on Debian and Ubuntu. */
export const QEMU_INSTALL_HINT = "apt-get install qemu-system-misc";
/** After SIGTERM on a timeout, wait this long before SIGKILL. */
const KILL_GRACE_MS = 2000;
/** How long to keep retrying the QMP socket while QEMU starts. */
const QMP_CONNECT_MS = 10_000;
const QMP_RETRY_MS = 10;

/** QEMU's version line, or undefined when the binary cannot be run (not installed). */
export function qemuVersion(binary: string): string | undefined {
  const r = spawnSync(binary, ["--version"], {
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
    timeout: 10_000,
  });
  if (r.error || r.status !== 0) return undefined;
  return r.stdout.split("\n")[0]?.trim();
}

/** What to boot and how long to wait. */
export interface QemuBootOptions {
  /** Label for progress and errors, e.g. "qemu-tcg run 1/3". */
  label: string;
  binary: string;
  kernelPath: string;
  initrdPath: string;
  cmdline: string;
  memoryMiB: number;
  /** Run with `-icount shift=0` and read the instruction count over QMP. */
  icount: boolean;
  /** Kill QEMU and fail after this much wall time. */
  timeoutMs: number;
}

/** The QEMU command line for one boot (without the QMP socket). */
export function qemuArgs(o: QemuBootOptions): string[] {
  return [
    ...["-M", "virt", "-m", `${o.memoryMiB}M`, "-nographic", "-bios", "default"],
    ...["-kernel", o.kernelPath, "-initrd", o.initrdPath, "-append", o.cmdline],
    ...(o.icount ? ["-icount", "shift=0"] : []),
  ];
}

/**
 * Boot to power-off and check the result. The clock starts just before the
 * spawn, so QEMU's start-up and image loading count. QEMU's virt board exits
 * the process on the guest's power-off (status 0 for a clean one).
 */
export async function bootQemu(o: QemuBootOptions): Promise<BootRun> {
  const dir = o.icount ? mkdtempSync(join(tmpdir(), "hvkit-boot-")) : undefined;
  try {
    return await bootOnce(o, dir && join(dir, "qmp.sock"));
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

function bootOnce(o: QemuBootOptions, qmpPath: string | undefined): Promise<BootRun> {
  const args = qemuArgs(o);
  if (qmpPath) args.push("-qmp", `unix:${qmpPath},server=on,wait=off`);
  return new Promise<BootRun>((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(o.binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    let exitAt: number | undefined;
    let timedOut = false;
    let stderr = "";
    let qmp: Qmp | undefined;
    let icountAtMarker: Promise<{ icount: number; lagMs: number }> | undefined;
    const watch = new ConsoleWatch(
      () => performance.now(),
      () => {
        if (!qmp) return;
        // The guest keeps running while the question travels: the answer is late by
        // the reply's lag (recorded; about a millisecond here).
        const asked = watch.markerAt!;
        icountAtMarker = qmp
          .execute("query-replay")
          .then((r) => ({ icount: (r as { icount: number }).icount, lagMs: performance.now() - asked }));
        // Settle it now so an early exit does not leave an unhandled rejection; checked below.
        icountAtMarker.catch(() => {});
      },
    );
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS).unref();
    }, o.timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => watch.push(chunk));
    child.stderr.setEncoding("utf8").on("data", (s: string) => {
      stderr += s;
    });
    if (qmpPath) {
      connectQmp(qmpPath, () => exitAt !== undefined).then(
        (q) => {
          qmp = q;
        },
        (e: Error) => {
          child.kill("SIGKILL");
          reject(new BootBenchError("BOOT_QEMU_FAILED", `${o.label}: no QMP connection: ${e.message}`));
        },
      );
    }
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new BootBenchError("BOOT_QEMU_FAILED", `${o.label}: could not run ${o.binary}: ${e.message}`));
    });
    child.on("exit", () => {
      exitAt = performance.now();
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      qmp?.close();
      const t1 = exitAt ?? performance.now();
      if (timedOut) {
        reject(
          new BootBenchError(
            "BOOT_TIMEOUT",
            `${o.label}: QEMU did not finish within ${(o.timeoutMs / 1000).toFixed(0)} s and was killed; raise --timeout if this machine is slow.\n--- console tail ---\n${watch.tail()}\n--- end ---`,
          ),
        );
        return;
      }
      try {
        const detail = `QEMU exited with ${signal ?? code}${stderr.trim() ? ` (stderr: ${stderr.trim().slice(0, 500)})` : ""}`;
        checkBoot(o.label, watch, code === 0, detail);
      } catch (e) {
        reject(e);
        return;
      }
      const run: BootRun = {
        bootOkSeconds: (watch.markerAt! - t0) / 1000,
        totalSeconds: (t1 - t0) / 1000,
        exitStatus: code!,
        guestExitStatus: watch.guestExitStatus()!,
      };
      if (!qmpPath) {
        resolve(run);
        return;
      }
      if (!icountAtMarker) {
        reject(new BootBenchError("BOOT_QEMU_FAILED", `${o.label}: the QMP socket was not ready at BOOT-OK`));
        return;
      }
      icountAtMarker.then(
        ({ icount, lagMs }) => resolve({ ...run, instructionsAtBootOk: icount, icountLagMs: lagMs }),
        (e: Error) =>
          reject(
            new BootBenchError(
              "BOOT_QEMU_FAILED",
              `${o.label}: QEMU exited before answering query-replay at BOOT-OK (${e.message}); run again`,
            ),
          ),
      );
    });
  });
}

/** A minimal QMP client: line-delimited JSON, commands matched to replies by id. */
class Qmp {
  private buffer = "";
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(private readonly socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (s: string) => this.receive(s));
    socket.on("close", () => this.failAll(new Error("QMP connection closed")));
    socket.on("error", (e) => this.failAll(e));
  }

  /** Run a QMP command; resolves with its "return" value. */
  execute(command: string): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.write(`${JSON.stringify({ execute: command, id })}\n`);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private receive(s: string): void {
    this.buffer += s;
    for (let nl = this.buffer.indexOf("\n"); nl >= 0; nl = this.buffer.indexOf("\n")) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (!line) continue;
      // Greeting and events carry no id; only replies do.
      const msg = JSON.parse(line) as { id?: number; return?: unknown; error?: { desc?: string } };
      if (typeof msg.id !== "number") continue;
      const p = this.pending.get(msg.id);
      if (!p) continue;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new Error(msg.error.desc ?? JSON.stringify(msg.error)));
      else p.resolve(msg.return);
    }
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}

/** Connect to QEMU's QMP socket as soon as it exists and leave command mode negotiated. */
async function connectQmp(path: string, gone: () => boolean): Promise<Qmp> {
  const until = performance.now() + QMP_CONNECT_MS;
  for (;;) {
    if (gone()) throw new Error("QEMU exited first");
    if (existsSync(path)) {
      const socket = await new Promise<Socket>((resolve, reject) => {
        const s = connect(path, () => resolve(s));
        s.once("error", reject);
      }).catch(() => undefined);
      if (socket) {
        const qmp = new Qmp(socket);
        await qmp.execute("qmp_capabilities");
        return qmp;
      }
    }
    if (performance.now() > until) throw new Error(`${path} did not accept connections`);
    await new Promise((r) => setTimeout(r, QMP_RETRY_MS));
  }
}
