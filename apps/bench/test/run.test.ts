/**
 * The bench command end to end, as `pnpm bench` runs it: a small matrix in
 * measuring child processes writes the terminal table, a JSON result that
 * validates against the schema (and whose JSON Schema file is current), a
 * Markdown summary and an HTML report that a headless browser shows offline;
 * compare, merge and report work on what it wrote. The Linux boot runs when
 * `pnpm linux:fetch` has cached Debian's kernel (always in CI).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { readLinuxManifest } from "@hvkit/guests/node";
import { beforeAll, describe, expect, it } from "vitest";
import { type BenchIo, main } from "../src/cli.js";
import { BenchCollection, BenchResult, benchJsonSchema } from "../src/schema.js";
import { browserSkip, checkPage } from "./browser.js";

function capture(): { io: BenchIo; out: () => string; err: () => string } {
  let out = "";
  let err = "";
  const stderr = new PassThrough() as unknown as NodeJS.WriteStream;
  (stderr as unknown as PassThrough).setEncoding("utf8").on("data", (s: string) => {
    err += s;
  });
  return {
    io: {
      stdout: (s) => {
        out += s;
      },
      stderr,
      color: false,
    },
    out: () => out,
    err: () => err,
  };
}

const SCHEMA_FILE = new URL("../schema/hvkit-bench-1.schema.json", import.meta.url);

describe("the JSON Schema file", () => {
  it("is what the zod schema generates (regenerate: pnpm bench schema > apps/bench/schema/hvkit-bench-1.schema.json)", () => {
    expect(JSON.parse(readFileSync(SCHEMA_FILE, "utf8"))).toEqual(benchJsonSchema());
  });
});

describe("pnpm bench", () => {
  const dir = mkdtempSync(join(tmpdir(), "hvkit-bench-run-"));
  let json = "";

  let small: { code: number; out: string; err: string };

  beforeAll(async () => {
    const c = capture();
    const code = await main(
      [
        "--strategies",
        "trap-and-emulate",
        "--workloads",
        "syscall,ptemod,compute",
        "--no-boot",
        "-r",
        "2",
        "--out",
        dir,
      ],
      c.io,
    );
    small = { code, out: c.out(), err: c.err() };
    json = small.out.match(/wrote (\S+\.json)/)?.[1] ?? "";
  }, 300_000);

  it("runs a small matrix and writes every output", () => {
    const c = { out: () => small.out, err: () => small.err };
    expect(small.code, small.err).toBe(0);
    expect(c.err()).toMatch(
      /custom matrix: 2 strategies \(emulation, trap-and-emulate\), 3 workloads x 2 repetitions/,
    );
    // The non-TTY progress display logs each step.
    expect(c.err()).toMatch(/\[bench\s+\d+ s\] trap-and-emulate: syscall \(repetition 2\/2\)/);
    expect(c.out()).toMatch(/Modeled cycles per operation \(p4-2006\)/);
    expect(c.out()).toMatch(/│ ptemod\s+│ 21\.0\s+│/);
    for (const ext of ["json", "md", "html"]) {
      expect(existsSync(json.replace(/json$/, ext))).toBe(true);
      expect(existsSync(join(dir, `latest.${ext}`))).toBe(true);
    }
    const result = BenchResult.parse(JSON.parse(readFileSync(json, "utf8")));
    expect(result.failures).toBe(0);
    expect(result.run.matrix).toBe("custom");
    expect(result.cells).toHaveLength(6);
    for (const cell of result.cells) {
      expect(cell.status, cell.error).toBe("ok");
      expect(cell.checks.matchesBaseline).toBe(true);
      expect(cell.repetitions).toBe(2);
      expect(cell.wall!.samples).toHaveLength(2);
    }
    const ptemod = result.cells.find((c) => c.strategy === "trap-and-emulate" && c.workload === "ptemod")!;
    expect(ptemod.perOp!.instructions).toBe(21);
    expect(ptemod.perOp!.exits.total).toBeGreaterThanOrEqual(2);
    expect(ptemod.perOp!.cycles["p4-2006"]!.total).toBeGreaterThan(ptemod.perOp!.cycles.modern!.total);
    expect(
      result.findings.find((f) => f.id === "cpu-bound-near-native" && f.profile === "modern")!.verdict,
    ).not.toBe("not measurable");
    const md = readFileSync(json.replace(/json$/, "md"), "utf8");
    expect(md).toMatch(/^# hvkit bench: custom matrix/);
  }, 300_000);

  it("--with registers a module's strategies in this process and in the measuring ones; a failing strategy fails its cells loudly", async () => {
    const fixture = new URL("./strategies-fixture.ts", import.meta.url).pathname;
    const c = capture();
    const out = join(dir, "with");
    const code = await main(
      [
        "--with",
        fixture,
        "-s",
        "emulation-copy,refuses-everything",
        "-w",
        "ptemod",
        "--no-boot",
        "-r",
        "1",
        "-o",
        out,
      ],
      c.io,
    );
    expect(code).toBe(1);
    expect(c.err()).toMatch(/FAILED refuses-everything\/ptemod: .*this test strategy refuses every VM/);
    expect(c.out()).toMatch(/│ ptemod\s+│ 21\.0\s+│ 21\.0 \(1\.00x\)\s+│ FAILED\s+│/);
    const result = BenchResult.parse(JSON.parse(readFileSync(join(out, "latest.json"), "utf8")));
    expect(result.run.matrix).toBe("custom");
    expect(result.failures).toBe(1);
    expect(result.cells.map((x) => [x.strategy, x.status])).toEqual([
      ["emulation", "ok"],
      ["emulation-copy", "ok"],
      ["refuses-everything", "failed"],
    ]);
    expect(readFileSync(join(out, "latest.md"), "utf8")).toMatch(
      /\*\*1 cell\(s\) failed; their figures do not count:\*\*/,
    );
  }, 300_000);

  it("rejects a bad option with exit code 2 and the known names", async () => {
    const c = capture();
    expect(await main(["--strategies", "warp-drive"], c.io)).toBe(2);
    expect(c.err()).toMatch(/BENCH_BAD_OPTION: unknown strategy "warp-drive"; registered: emulation/);
  });

  it("compare finds no regression between a run and itself, and flags a changed figure", async () => {
    const same = capture();
    expect(await main(["compare", json, json], same.io)).toBe(0);
    expect(same.out()).toMatch(/0 regression\(s\)/);
    const doc = JSON.parse(readFileSync(json, "utf8"));
    const cell = doc.cells.find(
      (c: { strategy: string; workload: string }) =>
        c.strategy === "trap-and-emulate" && c.workload === "syscall",
    );
    cell.perOp.exits.total += 1;
    const changed = join(dir, "changed.json");
    writeFileSync(changed, JSON.stringify(doc));
    const c = capture();
    expect(await main(["compare", json, changed], c.io)).toBe(1);
    expect(c.out()).toMatch(/trap-and-emulate.*syscall.*exits per op.*REGRESSION/);
  });

  it("merge collects results; compare picks one with FILE#N; a foreign file is refused", async () => {
    const merged = join(dir, "merged.json");
    expect(await main(["merge", json, json, "-o", merged], capture().io)).toBe(0);
    const collection = BenchCollection.parse(JSON.parse(readFileSync(merged, "utf8")));
    expect(collection.results).toHaveLength(1); // the same run twice is kept once
    expect(await main(["compare", `${merged}#1`, json], capture().io)).toBe(0);
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ schema: "hvkit.bench", version: 99 }));
    const c = capture();
    expect(await main(["compare", bad, json], c.io)).toBe(1);
    expect(c.err()).toMatch(/BENCH_BAD_RESULT: .*version 99; this bench reads version 1/);
  });

  it("report writes the Markdown and HTML again", async () => {
    const out = join(dir, "again");
    const c = capture();
    expect(await main(["report", json, "-o", out], c.io)).toBe(0);
    expect(readFileSync(join(out, json.replace(/^.*\//, "").replace(/json$/, "html")), "utf8")).toMatch(
      /<!doctype html>/,
    );
  });

  const skip = browserSkip();
  it.skipIf(skip !== false)(
    "the written HTML report loads offline in headless chromium with its charts",
    async () => {
      const page = await checkPage(json.replace(/json$/, "html"));
      expect(page.consoleErrors).toEqual([]);
      expect(page.externalRequests).toEqual([]);
      expect(page.charts.length).toBeGreaterThanOrEqual(5);
      for (const chart of page.charts) expect(chart.visibleMarks, chart.id).toBeGreaterThan(0);
    },
    120_000,
  );
});

const manifest = readLinuxManifest();
const linuxSkip = process.env.CI
  ? false
  : manifest && existsSync(manifest.kernel.path)
    ? false
    : "no cached Linux (pnpm linux:fetch)";

describe.skipIf(linuxSkip !== false)("pnpm bench with the Linux boot", () => {
  it("boots Debian under emulation in a child process, checks BOOT-OK and reports it (with QEMU when installed)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hvkit-bench-boot-"));
    const c = capture();
    const code = await main(["--strategies", "emulation", "--workloads", "boot", "--out", dir], c.io);
    expect(code, c.err()).toBe(0);
    const result = BenchResult.parse(JSON.parse(readFileSync(join(dir, "latest.json"), "utf8")));
    const boot = result.cells.find((x) => x.workload === "linux-boot")!;
    expect(boot.status, boot.error).toBe("ok");
    expect(boot.boot!.instructionsAtBootOk).toBeGreaterThan(500_000_000);
    expect(boot.runs[0]!.exits.byReason.sbi).toBeGreaterThan(0);
    expect(boot.boot!.transcriptMatchesBaseline).toBe(true);
    expect(result.guests.linux!.release).toBe(manifest!.kernel.release);
    if (result.qemu.available) {
      expect(result.qemu.tcg!.bootOkSeconds.median).toBeGreaterThan(0);
      expect(result.qemu.icount!.instructionsAtBootOk.median).toBeGreaterThan(500_000_000);
    }
    expect(c.out()).toMatch(/Debian Linux boot/);
  }, 900_000);
});
