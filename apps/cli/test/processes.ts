/** hvkit CLI processes for the tests that need two of them (live migration over TCP). */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../src/bin.ts", import.meta.url));

/** A running `hvkit` process with its output collected so far. */
export interface Proc {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves with the exit code (null when killed by a signal). */
  done: Promise<number | null>;
}

/** Start `hvkit <args>` from source in a child process. */
export function hvkit(args: string[]): Proc {
  const child = spawn(process.execPath, ["--conditions=@hvkit/source", "--import", "tsx", bin, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const p: Proc = { child, stdout: "", stderr: "", done: Promise.resolve(null) };
  child.stdout?.on("data", (d: Buffer) => {
    p.stdout += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    p.stderr += d.toString();
  });
  p.done = new Promise((resolve) => child.on("exit", resolve));
  return p;
}

/** Poll `check` every `pollMs` until it holds; fail after `ms` naming `what` was awaited. */
export async function until(check: () => boolean, ms: number, what: string, pollMs = 50): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
