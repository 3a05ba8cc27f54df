/**
 * `hvkit run --kernel` as a process, with its real standard input: a pipe
 * feeds the guest without raw mode, and the run ends when the guest powers
 * off even though the pipe is still open (the CLI never waits for EOF); a
 * reader that goes away stops the guest quietly.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { echoGuest, helloGuest, yesGuest } from "./guests.js";

const bin = fileURLToPath(new URL("../src/bin.ts", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "hvkit-cli-"));

interface Outcome {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Start hvkit; `input` is written to its stdin, which stays open unless
 * `close`. With `stopReading`, stdout is closed after the first output.
 */
function hvkit(
  args: string[],
  input: string | "ignore",
  close = false,
  stopReading = false,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--conditions=@hvkit/source", "--import", "tsx", bin, ...args], {
      stdio: [input === "ignore" ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d: Buffer) => {
      if (stopReading) {
        stdout = d.toString().slice(0, 2);
        child.stdout?.destroy();
      } else stdout += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(`hvkit did not exit; stdout ${JSON.stringify(stdout)}, stderr ${JSON.stringify(stderr)}`),
      );
    }, 30_000);
    child.on("exit", (status) => {
      clearTimeout(timer);
      child.stdin?.destroy();
      resolve({ status, stdout, stderr });
    });
    if (child.stdin && input !== "ignore") {
      child.stdin.write(input);
      if (close) child.stdin.end();
    }
  });
}

describe("hvkit run --kernel as a process", () => {
  it("feeds piped input to the guest and exits when it powers off, with the pipe still open", async () => {
    const kernel = join(dir, "echo.elf");
    writeFileSync(kernel, echoGuest());
    const r = await hvkit(["run", "--kernel", kernel, "--memory", "64M"], "hello, guest\n");
    expect(r).toEqual({ status: 0, stdout: "hello, guest\n", stderr: "" });
  });

  it("runs with no standard input at all", async () => {
    const kernel = join(dir, "hello.elf");
    writeFileSync(kernel, helloGuest("hi\n", 1));
    const r = await hvkit(["run", "--kernel", kernel, "--memory", "64M"], "ignore");
    expect(r).toEqual({ status: 1, stdout: "hi\n!\n", stderr: "" });
  });

  it("stops quietly with 141 when the reader of its output goes away (hvkit run ... | head)", async () => {
    const kernel = join(dir, "yes.elf");
    writeFileSync(kernel, yesGuest());
    const r = await hvkit(["run", "--kernel", kernel, "--memory", "64M"], "ignore", false, true);
    expect(r).toEqual({ status: 141, stdout: "y\n", stderr: "" });
  });
});
