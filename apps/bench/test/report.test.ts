/**
 * The reports of a result with every part present (strategies of every
 * technique, the Linux boot, QEMU): the Markdown summary names the findings
 * and the paper's figures; the HTML is self-contained and, in a real
 * headless browser with the network off, loads without console errors and
 * shows every chart with its data.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { computeFindings } from "../src/findings.js";
import { htmlReport } from "../src/report/html.js";
import { markdownReport } from "../src/report/markdown.js";
import { terminalReport } from "../src/report/terminal.js";
import { BenchResult } from "../src/schema.js";
import { browserSkip, checkPage } from "./browser.js";
import { BT, EMULATION, fakeResult, HW_NESTED, HW_SHADOW, PV, TE } from "./fixtures.js";

function fullResult() {
  const r = fakeResult([EMULATION, TE, BT, HW_SHADOW, HW_NESTED, PV], {
    "hw-shadow": { ptemod: 12_000, pgfault: 11_000, forkwait: 100_000 },
    bt: { ptemod: 400, pgfault: 4_000, forkwait: 37_000 },
    emulation: { ptemod: 21, forkwait: 26_000 },
  });
  for (const s of r.strategies) {
    const c = structuredClone(r.cells.find((x) => x.strategy === s.name && x.workload === "forkwait")!);
    c.workload = "linux-boot";
    c.kind = "boot";
    c.image = "Debian 6.12.0-test";
    c.runs = [{ ...c.runs[0]!, n: undefined } as never];
    delete (c.runs[0] as { n?: number }).n;
    delete c.perOp;
    c.boot = {
      bootOkSeconds: { median: 14, min: 14, max: 14, samples: 1 },
      totalSeconds: { median: 14.2, min: 14.2, max: 14.2, samples: 1 },
      instructionsAtBootOk: 1_270_000_000,
      transcriptMatchesBaseline: true,
    };
    r.cells.push(c);
  }
  r.workloads.push({ name: "linux-boot", kind: "boot", unit: "boot", description: "Debian" });
  r.run.options.bootRepetitions = 1;
  r.guests.linux = { release: "6.12.0-test", kernelSha256: "00", initramfsSha256: "11" };
  r.qemu = {
    available: true,
    binary: "qemu-system-riscv64",
    version: "QEMU emulator version 7.2.22",
    command: "qemu-system-riscv64 -M virt",
    tcg: {
      bootOkSeconds: { median: 2.1, min: 2.1, max: 2.1, samples: 1 },
      totalSeconds: { median: 2.3, min: 2.3, max: 2.3, samples: 1 },
    },
    icount: { instructionsAtBootOk: { median: 900_000_000, min: 900_000_000, max: 900_000_000, samples: 1 } },
  };
  // A failed cell is shown as such everywhere.
  const failed = r.cells.find((c) => c.strategy === "pv" && c.workload === "io")!;
  failed.status = "failed";
  failed.error =
    "[BENCH_CELL_FAILED] pv workload=io n=100: failed check: CHECK io <script>alert(1)</script> FAIL";
  r.failures = 1;
  r.findings = computeFindings(r);
  return BenchResult.parse(r);
}

describe("reports", () => {
  const result = fullResult();

  it("the Markdown summary has the findings, the paper's figures and the failure", () => {
    const md = markdownReport(result);
    expect(md).toMatch(/^# hvkit bench: default matrix/);
    expect(md).toContain("| First-generation hardware assistance");
    expect(md).toMatch(/\| syscall \| syscall \| 242 \| 2308 \| 246 \|/);
    expect(md).toContain("paper Pentium 4: VT | 17.7x");
    expect(md).toContain("QEMU TCG 7.2.22");
    expect(md).toContain("1 cell(s) failed");
    for (const f of result.findings) expect(md).toContain(f.id);
  });

  it("the terminal report lists every finding's verdict per profile", () => {
    const text = terminalReport(result);
    expect(text).toMatch(/hw1-loses-to-bt-on-mmu\s*│ reproduced\s*│ reproduced/);
    expect(text).toContain("FAILED");
  });

  it("the HTML is one self-contained file: no scripts, no external references, escaped text", () => {
    const html = htmlReport(result);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\b(src|href)=["']?(https?:)?\/\//i);
    expect(html).toContain("&#60;script&#62;alert(1)&#60;/script&#62;");
    expect(html).toContain("Content-Security-Policy");
  });

  const skip = browserSkip();
  it.skipIf(skip !== false)(
    `loads offline in headless chromium with no console errors, and every chart has data${skip ? ` (skipped: ${skip})` : ""}`,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "hvkit-bench-report-"));
      const path = join(dir, "report.html");
      writeFileSync(path, htmlReport(result));
      const page = await checkPage(path);
      expect(page.consoleErrors).toEqual([]);
      expect(page.externalRequests).toEqual([]);
      expect(page.scripts).toBe(0);
      expect(page.title).toMatch(/hvkit bench/);
      expect(page.charts.map((c) => c.id)).toEqual([
        "overhead-p4-2006",
        "overhead-modern",
        "nano-vs-paper",
        "forkwait-vs-paper",
        "forkwait-breakdown",
        "exits-per-op",
        "boot-time",
        "boot-mips",
        "wall-overhead",
      ]);
      for (const c of page.charts) {
        expect(c.svgs, c.id).toBe(1);
        expect(c.visibleMarks, c.id).toBeGreaterThan(0);
      }
      // Grouped bars: one mark per strategy and workload with a value.
      const overhead = page.charts.find((c) => c.id === "overhead-p4-2006")!;
      expect(overhead.visibleMarks).toBeGreaterThanOrEqual(5 * 11);
      expect(overhead.text).toContain("hw-nested");
      const boot = page.charts.find((c) => c.id === "boot-time")!;
      expect(boot.visibleMarks).toBe(7); // QEMU and six strategies
      expect(boot.text).toContain("QEMU TCG");
    },
    120_000,
  );
});
