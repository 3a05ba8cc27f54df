import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  allClassifications,
  allCsrs,
  CSR,
  checkVirtualizable,
  classifyCsr,
  classifyInstruction,
  csrAccesses,
  evaluateTrap,
  INSTRUCTIONS,
  IsaError,
  type IsaProfile,
  MODES,
  NON_VIRTUALIZABLE_PROFILE,
  profileMarkdown,
  STANDARD_PROFILE,
  sensitivityMarkdown,
  sensitivityTable,
  subjectLabel,
} from "@hvkit/isa";
import { describe, expect, it } from "vitest";

const DOC = fileURLToPath(new URL("../docs/sensitivity.md", import.meta.url));

describe("checkVirtualizable", () => {
  it("finds the standard profile virtualizable under Theorem 1 and Theorem 3", () => {
    const t1 = checkVirtualizable(STANDARD_PROFILE);
    expect(t1.theorem).toBe("theorem1");
    expect(t1.virtualizable).toBe(true);
    expect(t1.offending).toEqual([]);
    expect(t1.other).toEqual({ theorem: "theorem3", virtualizable: true, offending: [] });
    const t3 = checkVirtualizable(STANDARD_PROFILE, { mode: "theorem3" });
    expect(t3.theorem).toBe("theorem3");
    expect(t3.virtualizable).toBe(true);
    expect(t3.offending).toEqual([]);
  });

  it("lists the conditional traps the VMM must arm and leaves memory accesses to translation", () => {
    const r = checkVirtualizable(STANDARD_PROFILE);
    expect(r.requires).toContainEqual({
      anyOf: ["mcounteren.CY=0", "scounteren.CY=0"],
      subjects: ["csrr cycle"],
    });
    expect(r.requires).toContainEqual({
      anyOf: ["mcounteren.TM=0", "scounteren.TM=0"],
      subjects: ["csrr time"],
    });
    expect(r.requires.find((q) => q.anyOf.includes("hstatus.HU=0"))?.subjects).toContain("hlv.d");
    expect(r.viaTranslation).toEqual(
      expect.arrayContaining(["ld", "sd", "c.ld", "fld", "amoswap.d", "lr.w"]),
    );
    expect(r.viaTranslation).not.toContain("hlv.d"); // hypervisor loads are trapped, not translated
  });

  it("names exactly the four overrides of the non-virtualizable profile under Theorem 1", () => {
    const r = checkVirtualizable(NON_VIRTUALIZABLE_PROFILE);
    expect(r.virtualizable).toBe(false);
    const got = r.offending.map((o) => [o.instruction, o.csr ?? null, o.access ?? null, o.mode, o.behaviour]);
    // Instructions in table order, then CSR accesses by number.
    expect(got).toEqual([
      ["sret", null, null, "U", "nop"],
      ["csrr", "sstatus", "read", "U", "read-masked"],
      ["csrw", "sstatus", "write", "U", "write-ignore-privileged"],
      ["csrr", "satp", "read", "U", "read-through"],
    ]);
    expect(got.length).toBe(NON_VIRTUALIZABLE_PROFILE.nonTrapping.length);
    for (const o of r.offending) expect(o.why).toMatch(/instead of trapping/);
  });

  it("under Theorem 3 spares the sret no-op, which user programs cannot tell apart (the PDP-10 JRST 1 case)", () => {
    const r = checkVirtualizable(NON_VIRTUALIZABLE_PROFILE, { mode: "theorem3" });
    expect(r.theorem).toBe("theorem3");
    expect(r.virtualizable).toBe(false);
    expect(r.offending.map((o) => `${o.instruction} ${o.csr ?? ""}`.trim())).toEqual([
      "csrr sstatus",
      "csrw sstatus",
      "csrr satp",
    ]);
    expect(r.other.theorem).toBe("theorem1");
    expect(r.other.offending).toHaveLength(4);
  });

  it("derives offenders for any profile, not just the two built in", () => {
    const p: IsaProfile = {
      name: "wfi-nop",
      description: "wfi completes at once in U-mode",
      nonTrapping: [
        {
          kind: "instruction",
          mode: "U",
          instruction: "wfi",
          behaviour: "nop",
          description: "no-op",
          analogue: "x86 HLT",
        },
      ],
    };
    const r = checkVirtualizable(p);
    expect(r.offending.map((o) => o.instruction)).toEqual(["wfi"]);
    expect(r.other.virtualizable).toBe(true);
    expect(() =>
      checkVirtualizable({ ...p, nonTrapping: [{ ...p.nonTrapping[0]!, instruction: "halt" } as never] }),
    ).toThrow(IsaError);
  });
});

describe("coverage", () => {
  it("classifies every instruction of the table in every mode", () => {
    for (const insn of INSTRUCTIONS) {
      for (const mode of MODES) {
        const c = classifyInstruction(insn.name, mode);
        expect(c.reason, `${insn.name} in ${mode}`).not.toBe("");
        expect(["always", "never", "conditional", "per-csr"]).toContain(c.trap.when);
        expect(c.sensitive).toBe(c.category !== "innocuous");
      }
    }
  });

  it("classifies every CSR for every access kind in every mode", () => {
    for (const [num, name] of allCsrs()) {
      for (const access of ["read", "write", "set", "clear"] as const) {
        for (const mode of MODES) {
          const c = classifyCsr(num, access, mode);
          expect(c.reason, `${name} ${access} in ${mode}`).not.toBe("");
          expect(c.subject).toMatchObject({ kind: "csr", csr: num, name });
          expect(["always", "never", "conditional"]).toContain(c.trap.when);
        }
      }
    }
  });

  it("has one entry per operation and mode, and every trap-virtualized sensitive operation traps in U-mode", () => {
    const all = allClassifications();
    expect(all.length).toBe((INSTRUCTIONS.length + 2 * allCsrs().length) * MODES.length);
    for (const c of all.filter((c) => c.mode === "U" && c.sensitive && c.virtualizedBy === "trap")) {
      expect(c.trap.when, subjectLabel(c.subject)).not.toBe("never");
    }
  });
});

describe("spec rules", () => {
  it("traps mret from S-mode, and never from M-mode", () => {
    expect(classifyInstruction("mret", "S").trap).toEqual({
      when: "always",
      cause: "illegal-instruction",
      conditions: [],
    });
    expect(classifyInstruction("mret", "M").trap.when).toBe("never");
    expect(classifyInstruction("mret", "VS").trap.cause).toBe("illegal-instruction");
  });

  it("lets sret run in S-mode unless mstatus.TSR=1; always traps it in U-mode", () => {
    const s = classifyInstruction("sret", "S");
    expect(s.trap.when).toBe("conditional");
    expect(evaluateTrap(s.trap, {})).toBeNull();
    expect(evaluateTrap(s.trap, { "mstatus.TSR": 1 })).toBe("illegal-instruction");
    expect(classifyInstruction("sret", "U").trap.when).toBe("always");
    expect(s.category).toBe("control+behaviour");
    // In VS-mode hstatus.VTSR decides, not mstatus.TSR (H extension).
    const vs = classifyInstruction("sret", "VS").trap;
    expect(evaluateTrap(vs, { "mstatus.TSR": 1 })).toBeNull();
    expect(evaluateTrap(vs, { "hstatus.VTSR": 1 })).toBe("virtual-instruction");
  });

  it("traps csrr mstatus from S-mode and csrr sstatus from U-mode", () => {
    expect(classifyCsr(CSR.mstatus, "read", "S").trap.when).toBe("always");
    const u = classifyCsr(CSR.sstatus, "read", "U");
    expect(u.trap).toEqual({ when: "always", cause: "illegal-instruction", conditions: [] });
    expect(u.category).toBe("behaviour");
    expect(classifyCsr(CSR.sstatus, "write", "U").category).toBe("control");
  });

  it("makes csrr cycle from U-mode depend on mcounteren and scounteren", () => {
    const c = classifyCsr(CSR.cycle, "read", "U");
    expect(c.trap.when).toBe("conditional");
    expect(c.trap.conditions.map((k) => k.control)).toEqual(["mcounteren.CY", "scounteren.CY"]);
    expect(evaluateTrap(c.trap, { "mcounteren.CY": 1, "scounteren.CY": 1 })).toBeNull();
    expect(evaluateTrap(c.trap, { "mcounteren.CY": 1 })).toBe("illegal-instruction");
    expect(c.note).toMatch(/counteren/);
    expect(c.category).toBe("behaviour");
    expect(classifyCsr(CSR.time, "read", "U").reason).toMatch(/host/);
    // VU: mcounteren first (illegal), then hcounteren and the guest's scounteren (virtual).
    const vu = classifyCsr(CSR.cycle, "read", "VU").trap;
    expect(evaluateTrap(vu, { "mcounteren.CY": 1, "hcounteren.CY": 1 })).toBe("virtual-instruction");
    expect(evaluateTrap(vu, { "hcounteren.CY": 1, "scounteren.CY": 1 })).toBe("illegal-instruction");
  });

  it("makes wfi in S-mode depend on mstatus.TW", () => {
    const c = classifyInstruction("wfi", "S");
    expect(c.trap.conditions).toEqual([{ control: "mstatus.TW", value: 1, cause: "illegal-instruction" }]);
    expect(classifyInstruction("wfi", "U").trap.when).toBe("always");
    const vu = classifyInstruction("wfi", "VU").trap;
    expect(evaluateTrap(vu, {})).toBe("virtual-instruction");
    expect(evaluateTrap(vu, { "mstatus.TW": 1 })).toBe("illegal-instruction");
  });

  it("makes satp access and sfence.vma in S-mode depend on mstatus.TVM", () => {
    for (const access of ["read", "write"] as const) {
      const c = classifyCsr(CSR.satp, access, "S");
      expect(c.trap.conditions).toEqual([{ control: "mstatus.TVM", value: 1, cause: "illegal-instruction" }]);
    }
    expect(classifyInstruction("sfence.vma", "S").trap.conditions[0]?.control).toBe("mstatus.TVM");
    expect(classifyInstruction("sfence.vma", "U").trap.when).toBe("always");
    expect(classifyCsr(CSR.satp, "read", "VS").trap.conditions[0]?.control).toBe("hstatus.VTVM");
    expect(classifyCsr(CSR.hgatp, "write", "S").trap.conditions[0]?.control).toBe("mstatus.TVM");
  });

  it("classifies ecall as sensitive and trapping in every mode", () => {
    for (const mode of MODES) {
      const c = classifyInstruction("ecall", mode);
      expect(c.sensitive).toBe(true);
      expect(c.control).toBe(true);
      expect(c.trap).toEqual({ when: "always", cause: "environment-call", conditions: [] });
    }
  });

  it("classifies add as innocuous and never trapping", () => {
    for (const mode of MODES) {
      const c = classifyInstruction("add", mode);
      expect(c.category).toBe("innocuous");
      expect(c.trap.when).toBe("never");
      expect(c.virtualizedBy).toBe("none");
    }
  });

  it("classifies ld as behaviour-sensitive through translation, handled by the MMU rather than a trap", () => {
    for (const name of ["ld", "c.ld", "sd", "amoadd.w"]) {
      const c = classifyInstruction(name, "U");
      expect(c.category, name).toBe("behaviour");
      expect(c.virtualizedBy, name).toBe("address-translation");
      expect(c.trap.when, name).toBe("never");
    }
    expect(classifyInstruction("ld", "U").reason).toMatch(/translation/);
  });

  it("gates the hypervisor loads and stores in U-mode on hstatus.HU and traps them as virtual in VS/VU", () => {
    const u = classifyInstruction("hlv.w", "U").trap;
    expect(evaluateTrap(u, {})).toBe("illegal-instruction");
    expect(evaluateTrap(u, { "hstatus.HU": 1 })).toBeNull();
    expect(classifyInstruction("hsv.d", "VS").trap.cause).toBe("virtual-instruction");
    expect(classifyInstruction("hfence.gvma", "U").trap.when).toBe("always");
  });

  it("traps writes to read-only CSRs in every mode and counts them innocuous", () => {
    for (const mode of MODES) {
      const c = classifyCsr(CSR.time, "write", mode);
      expect(c.trap.when).toBe("always");
      expect(c.category).toBe("innocuous");
    }
    expect(classifyCsr(CSR.mhartid, "read", "M").trap.when).toBe("never");
    expect(classifyCsr(CSR.mhartid, "write", "M").trap.when).toBe("always");
  });

  it("counts the FP CSRs innocuous, trapping only while FS is off", () => {
    const c = classifyCsr(CSR.fcsr, "write", "U");
    expect(c.category).toBe("innocuous");
    expect(evaluateTrap(c.trap, { "mstatus.FS": 3 })).toBeNull();
    expect(evaluateTrap(c.trap, { "mstatus.FS": 0 })).toBe("illegal-instruction");
  });

  it("classifies set and clear as writes", () => {
    expect(classifyCsr(CSR.sie, "set", "S").subject).toMatchObject({ access: "write" });
    expect(classifyCsr(CSR.sie, "clear", "U").category).toBe("control");
  });

  it("redirects supervisor CSRs to their VS copies in VS-mode without trapping", () => {
    const c = classifyCsr(CSR.sstatus, "write", "VS");
    expect(c.trap.when).toBe("never");
    expect(c.note).toMatch(/vsstatus/);
    expect(classifyCsr(CSR.scounteren, "read", "VS").note).toMatch(/no VS copy/);
    expect(classifyCsr(CSR.hstatus, "read", "VS").trap.cause).toBe("virtual-instruction");
    expect(classifyCsr(CSR.sstatus, "read", "VU").trap.cause).toBe("virtual-instruction");
    expect(classifyCsr(CSR.mstatus, "read", "VS").trap.cause).toBe("illegal-instruction");
  });

  it("gates stimecmp on Sstc's STCE and the TM counter-enable bits", () => {
    const s = classifyCsr(CSR.stimecmp, "write", "S").trap;
    expect(evaluateTrap(s, { "menvcfg.STCE": 1, "mcounteren.TM": 1 })).toBeNull();
    expect(evaluateTrap(s, { "mcounteren.TM": 1 })).toBe("illegal-instruction");
    const vs = classifyCsr(CSR.stimecmp, "write", "VS").trap;
    expect(evaluateTrap(vs, { "menvcfg.STCE": 1, "mcounteren.TM": 1 })).toBe("virtual-instruction");
  });

  it("treats the Debug Mode registers as out of reach in every mode", () => {
    for (const mode of MODES) expect(classifyCsr(CSR.dcsr, "read", mode).trap.when).toBe("always");
  });

  it("applies the spec's rules for which CSR accesses an instruction performs", () => {
    expect(csrAccesses("csrrw", 0, 5)).toEqual(["write"]);
    expect(csrAccesses("csrrw", 1, 5)).toEqual(["read", "write"]);
    expect(csrAccesses("csrrs", 1, 0)).toEqual(["read"]);
    expect(csrAccesses("csrrc", 1, 0)).toEqual(["read"]);
    expect(csrAccesses("csrrsi", 0, 0)).toEqual(["read"]);
    expect(csrAccesses("csrrci", 0, 4)).toEqual(["read", "write"]);
    expect(() => csrAccesses("add", 0, 0)).toThrow(IsaError);
  });

  it("rejects unknown names and out-of-range numbers with stable codes", () => {
    expect(() => classifyInstruction("frobnicate", "U")).toThrow(
      expect.objectContaining({ code: "ISA_UNKNOWN_INSTRUCTION" }),
    );
    expect(() => classifyCsr(0x1000, "read", "U")).toThrow(
      expect.objectContaining({ code: "ISA_OPERAND_RANGE" }),
    );
    expect(() => classifyInstruction("add", "H" as never)).toThrow(
      expect.objectContaining({ code: "ISA_OPERAND_RANGE" }),
    );
    // A number the hart does not implement raises illegal-instruction everywhere.
    expect(classifyCsr(0x7ff, "read", "M").trap.when).toBe("always");
  });
});

describe("profiles", () => {
  it("keeps the standard profile free of overrides", () => {
    expect(STANDARD_PROFILE.nonTrapping).toEqual([]);
  });

  it("applies the non-virtualizable overrides in U-mode only", () => {
    const p = NON_VIRTUALIZABLE_PROFILE;
    const sret = classifyInstruction("sret", "U", p);
    expect(sret.trap.when).toBe("never");
    expect(sret.override?.behaviour).toBe("nop");
    expect(classifyInstruction("sret", "S", p).trap.when).toBe("conditional");
    expect(classifyInstruction("sret", "VU", p).trap.when).toBe("always");
    expect(classifyCsr(CSR.sstatus, "clear", "U", p).override?.behaviour).toBe("write-ignore-privileged");
    expect(classifyCsr(CSR.satp, "read", "U", p).override?.behaviour).toBe("read-through");
    expect(classifyCsr(CSR.satp, "write", "U", p).trap.when).toBe("always");
  });

  it("gives the CPU masks it can apply to hi/lo register halves", () => {
    const [read, write] = NON_VIRTUALIZABLE_PROFILE.nonTrapping;
    if (read?.behaviour !== "read-masked" || write?.behaviour !== "write-ignore-privileged") {
      throw new Error("unexpected override order");
    }
    const SIE = 1 << 1;
    const SPP = 1 << 8;
    const FS = 3 << 13;
    expect(read.mask.lo & SIE).toBe(SIE); // the PUSHF lesson: the real interrupt flag shows
    expect(read.mask.lo & SPP).toBe(0);
    expect(read.mask.hi >>> 31).toBe(1); // SD
    expect(write.mask).toEqual({ lo: FS, hi: 0 });
    expect(write.ignored.lo & SIE).toBe(SIE); // the POPF lesson: IF writes vanish
    expect(write.ignored.lo & write.mask.lo).toBe(0);
    for (const m of [read.mask, write.mask, write.ignored]) {
      expect(m.lo >>> 0).toBe(m.lo);
      expect(m.hi >>> 0).toBe(m.hi);
    }
  });
});

describe("table and documentation", () => {
  const rows = sensitivityTable();

  it("puts every operation in exactly one row", () => {
    const fromRows = rows.flatMap((r) => r.names.map((n) => `${r.kind}:${r.access ?? ""}:${n}`)).sort();
    const fromData = allClassifications()
      .filter((c) => c.mode === "U")
      .map((c) => `${c.subject.kind}:${c.subject.kind === "csr" ? c.subject.access : ""}:${c.subject.name}`)
      .sort();
    expect(fromRows).toEqual(fromData);
  });

  it("keeps docs/sensitivity.md in step with the data (HVKIT_WRITE_DOCS=1 regenerates it)", () => {
    const blocks: Record<string, string> = {
      table: sensitivityMarkdown(),
      "profile-standard": profileMarkdown(STANDARD_PROFILE),
      "profile-non-virtualizable": profileMarkdown(NON_VIRTUALIZABLE_PROFILE),
    };
    let doc = readFileSync(DOC, "utf8");
    for (const [name, body] of Object.entries(blocks)) {
      const re = new RegExp(`(<!-- generated:${name} -->\\n)[\\s\\S]*?(<!-- end:${name} -->)`);
      expect(doc, `docs/sensitivity.md lacks the ${name} markers`).toMatch(re);
      if (process.env.HVKIT_WRITE_DOCS === "1")
        doc = doc.replace(re, (_m, a: string, b: string) => a + body + b);
    }
    if (process.env.HVKIT_WRITE_DOCS === "1") writeFileSync(DOC, doc);

    // The sensitive rows the document lists are the sensitive rows of the data.
    const section = /### Sensitive instructions[\s\S]*?### Innocuous operations/.exec(doc)?.[0] ?? "";
    const listed = section
      .split("\n")
      .filter((l) => l.startsWith("| ") && !l.startsWith("| ---") && !/^\| (Instructions|CSRs) \|/.test(l))
      .map((l) => l.split(" | ").slice(0, 2).join(" | "));
    const expected = rows
      .filter((r) => r.sensitive)
      .map((r) => (r.kind === "csr" ? `| ${r.label} | ${r.access}` : `| ${r.label} | ${r.category}`));
    expect(listed).toEqual(expected);
    for (const [name, body] of Object.entries(blocks)) {
      expect(doc, `regenerate with HVKIT_WRITE_DOCS=1: the ${name} block is stale`).toContain(body);
    }
  });
});
