/**
 * `hvkit snapshot` and `hvkit run --restore`: a guest snapshotted at a step
 * count or a console string and restored (under its strategy or another)
 * prints exactly what the uninterrupted run prints after that point; a
 * damaged snapshot file is refused with its typed error.
 */
import { readHvkitImage } from "@hvkit/guests/node";
import { describe, expect, it } from "vitest";
import { main } from "../src/main.js";
import { argv, memoryIo } from "./helpers.js";

const kernel = readHvkitImage("hvkit-kernel.elf");
const guest = ["--kernel", "k", "--append", "workload=forkwait n=200", "--memory", "32M"];

async function plainRun(): Promise<string> {
  const io = memoryIo({ k: kernel });
  expect(await main(argv("run", ...guest), io)).toBe(0);
  return io.out;
}

describe("hvkit snapshot / run --restore", () => {
  it.each([
    ["--at-step", "2000000", "trap-and-emulate"],
    ["--at-instruction", "3000000", "hardware-assisted+shadow"],
    ["--at-output", "workload forkwait", "hardware-assisted"],
  ])("%s %s, restored under %s, continues exactly", async (flag, value, other) => {
    const expected = await plainRun();
    const io = memoryIo({ k: kernel });
    expect(await main(argv("snapshot", ...guest, flag, value, "-o", "s.snap"), io)).toBe(0);
    expect(io.err).toMatch(/snapshot at step \d+ .* written to s\.snap/);
    if (flag === "--at-instruction") expect(io.err).toContain("(3000000 instructions)");
    const snap = io.files.get("s.snap")!;
    for (const strategy of [undefined, other]) {
      const r = memoryIo({ "s.snap": snap });
      const args = strategy ? ["--strategy", strategy] : [];
      expect(await main(argv("run", "--restore", "s.snap", ...args), r), r.err).toBe(0);
      expect(io.out + r.out).toBe(expected);
    }
  });

  it("refuses a damaged snapshot with its code", async () => {
    const io = memoryIo({ k: kernel });
    await main(argv("snapshot", ...guest, "--at-step", "1000000", "-o", "s.snap"), io);
    const bad = io.files.get("s.snap")!.slice(0, 1000);
    const r = memoryIo({ "s.snap": bad });
    expect(await main(argv("run", "--restore", "s.snap"), r)).toBe(1);
    expect(r.err).toMatch(/^hvkit: SNAPSHOT_TRUNCATED: /);
  });

  it("snapshot needs a moment to act", async () => {
    const io = memoryIo({ k: kernel });
    expect(await main(argv("snapshot", ...guest, "-o", "s.snap"), io)).toBe(2);
    expect(io.err).toMatch(/--at-step <n>, --at-instruction <n> or --at-output <text>/);
  });
});
