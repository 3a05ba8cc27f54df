/**
 * Live migration between two hvkit processes when the target process is
 * killed (SIGKILL) during pre-copy: `hvkit migrate` reports the failure and
 * the guest keeps running in the source process, printing exactly what an
 * uninterrupted run prints.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { hvkit, until } from "./processes.js";

const kernel = fileURLToPath(new URL("../../../packages/guests/images/hvkit-kernel.elf", import.meta.url));
const guest = ["--kernel", kernel, "--append", "workload=forkwait n=6000", "--memory", "32M"];

describe("hvkit migrate when the target dies", () => {
  it("the source keeps running the guest, its output exactly the uninterrupted run's", {
    timeout: 180_000,
  }, async () => {
    const plain = hvkit(["run", ...guest]);
    expect(await plain.done).toBe(0);

    const target = hvkit(["receive", "--listen", "0", "--host", "127.0.0.1"]);
    await until(() => /port (\d+)/.test(target.stderr), 60_000, "the receiver to listen", 20);
    const port = /port (\d+)/.exec(target.stderr)![1]!;
    // A slow link (100 KB/s: round 1 takes ~0.75 s) keeps pre-copy going long enough to kill the target in the middle.
    const source = hvkit([
      "migrate",
      ...guest,
      "--at-step",
      "5e6",
      "--to",
      `127.0.0.1:${port}`,
      "--bandwidth",
      "100000",
    ]);
    await until(() => source.stderr.includes("migrating to"), 60_000, "the migration to start", 20);
    await new Promise((r) => setTimeout(r, 100));
    target.child.kill("SIGKILL");
    expect(await source.done, source.stderr).toBe(0);
    expect(source.stderr).toMatch(
      /migration failed \(MIGRATION_DISCONNECTED: .*\); the guest keeps running here/,
    );
    expect(source.stdout).toBe(plain.stdout);
    expect(source.stdout).toContain("DONE status=0");
  });
});
