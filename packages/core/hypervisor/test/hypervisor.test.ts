import { assemble, assembleElf } from "@hvkit/isa";
import { describe, expect, it } from "vitest";
import {
  getStrategy,
  HypervisorError,
  registerStrategy,
  resolveConfig,
  SBI_IMPL_ID,
  SBI_SPEC_VERSION,
  SbiError,
  type StrategyDefinition,
  Vm,
} from "../src/index.js";

const KERNEL = 0x80200000n;
const kernel = assembleElf("_start: j _start\n", { base: KERNEL });

const noop: StrategyDefinition = {
  name: "test-noop",
  description: "test strategy",
  techniques: { cpu: "emulation", memory: "native", io: [] },
  create: () => ({ start() {} }),
};

describe("VmConfig", () => {
  it("fills in defaults", () => {
    const c = resolveConfig({ kernel });
    expect(c.memory).toBe(512 * 1024 * 1024);
    expect(c.firmware).toBe("builtin");
    expect(c.costProfile.name).toBe("modern");
  });

  it.each([
    [{ kernel: new Uint8Array() }, /kernel/],
    [{ kernel, memory: 3 * 1024 * 1024 }, /multiple of 2 MiB/],
    [{ kernel, memory: 4096 * 1024 * 1024 }, /2 GiB/],
    [{ kernel, costProfile: "p3-1999" }, /unknown cost profile "p3-1999"; known: p4-2006, modern/],
  ])("refuses %o with a typed error", (config, message) => {
    expect(() => resolveConfig(config)).toThrowError(message);
    try {
      resolveConfig(config);
    } catch (e) {
      expect(e).toBeInstanceOf(HypervisorError);
      expect((e as HypervisorError).code).toBe("HV_INVALID_CONFIG");
    }
  });
});

describe("strategy registry", () => {
  it("names the known strategies when asked for an unknown one", () => {
    registerStrategy(noop);
    expect(() => getStrategy("nope")).toThrowError(/unknown strategy "nope"; known strategies: .*test-noop/);
  });

  it("refuses two different strategies under one name", () => {
    registerStrategy(noop);
    expect(() => registerStrategy({ ...noop })).toThrowError(/already registered/);
  });
});

/** Run an S-mode snippet that makes one SBI call and powers off; return a0/a1 as left by the call. */
function sbiCall(setup: string): { a0: bigint; a1: bigint } {
  const src = `
.globl _start
_start:
${setup}
  ecall
  la t0, result
  sd a0, 0(t0)
  sd a1, 8(t0)
  li a0, 0
  li a1, 0
  li a6, 0
  li a7, 0x53525354
  ecall
.data
.align 3
result: .dword 0, 0
`;
  const vm = Vm.create(noop, { kernel: assembleElf(src, { base: KERNEL }), memory: 32 * 1024 * 1024 });
  const r = vm.run({ steps: 100_000 });
  expect(r.stop).toBe("poweroff");
  const at = Number(assemble(src, { base: KERNEL }).symbols.get("result")!) - vm.board.ramBase;
  const view = new DataView(vm.board.ram.buffer, vm.board.ram.byteOffset, vm.board.ram.byteLength);
  return { a0: view.getBigInt64(at, true), a1: view.getBigInt64(at + 8, true) };
}

describe("built-in SBI (v2.0)", () => {
  it("BASE reports the spec version and implementation", () => {
    expect(sbiCall("li a7, 0x10\n li a6, 0")).toEqual({ a0: 0n, a1: BigInt(SBI_SPEC_VERSION) });
    expect(sbiCall("li a7, 0x10\n li a6, 1")).toEqual({ a0: 0n, a1: BigInt(SBI_IMPL_ID) });
  });

  it("probe_extension answers 1 for served extensions and 0 for others", () => {
    expect(sbiCall("li a7, 0x10\n li a6, 3\n li a0, 0x53525354").a1).toBe(1n);
    expect(sbiCall("li a7, 0x10\n li a6, 3\n li a0, 0x504D55").a1).toBe(1n); // PMU
    expect(sbiCall("li a7, 0x10\n li a6, 3\n li a0, 0x43505043").a1).toBe(0n); // CPPC: not served
  });

  it("answers NOT_SUPPORTED for unknown extensions and functions", () => {
    expect(sbiCall("li a7, 0x0A000000\n li a6, 0").a0).toBe(BigInt(SbiError.NOT_SUPPORTED));
    expect(sbiCall("li a7, 0x10\n li a6, 99").a0).toBe(BigInt(SbiError.NOT_SUPPORTED));
  });

  it("DBCN refuses a buffer outside guest RAM without touching the host", () => {
    expect(sbiCall("li a7, 0x4442434E\n li a6, 0\n li a0, 16\n li a1, 0x1000\n li a2, 0").a0).toBe(
      BigInt(SbiError.INVALID_PARAM),
    );
  });

  it("HSM reports hart 0 started and others invalid", () => {
    expect(sbiCall("li a7, 0x48534D\n li a6, 2\n li a0, 0")).toEqual({ a0: 0n, a1: 0n });
    expect(sbiCall("li a7, 0x48534D\n li a6, 2\n li a0, 5").a0).toBe(BigInt(SbiError.INVALID_PARAM));
    expect(sbiCall("li a7, 0x48534D\n li a6, 0\n li a0, 0").a0).toBe(BigInt(SbiError.ALREADY_AVAILABLE));
  });

  describe("PMU over the fixed counters", () => {
    /** One PMU call (a6 = fid, a0.. = args) whose result is not checked, as setup for the next. */
    const pmu = (fid: number, ...args: number[]) =>
      `li a7, 0x504D55\n li a6, ${fid}\n${args.map((v, i) => ` li a${i}, ${v}\n`).join("")}`;
    const call = (fid: number, ...args: number[]) => `${pmu(fid, ...args)} ecall\n`;
    const CYCLES = 1;
    const INSTRUCTIONS = 2;

    it("describes three 64-bit hardware counters: cycle, time, instret", () => {
      expect(sbiCall(pmu(0))).toEqual({ a0: 0n, a1: 3n });
      expect(sbiCall(pmu(1, 0))).toEqual({ a0: 0n, a1: BigInt((63 << 12) | 0xc00) });
      expect(sbiCall(pmu(1, 2))).toEqual({ a0: 0n, a1: BigInt((63 << 12) | 0xc02) });
      expect(sbiCall(pmu(1, 3)).a0).toBe(BigInt(SbiError.INVALID_PARAM));
      expect(sbiCall(pmu(5, 0)).a0).toBe(BigInt(SbiError.INVALID_PARAM)); // no firmware counters
      expect(sbiCall(pmu(7, 0, 0, 0)).a0).toBe(BigInt(SbiError.NOT_SUPPORTED)); // no snapshot shmem
    });

    it("matches cycles and instructions to their counters; a taken counter is released by stop with RESET", () => {
      expect(sbiCall(pmu(2, 0, 7, 0, CYCLES))).toEqual({ a0: 0n, a1: 0n });
      expect(sbiCall(pmu(2, 0, 7, 0, INSTRUCTIONS))).toEqual({ a0: 0n, a1: 2n });
      expect(sbiCall(pmu(2, 0, 7, 0, 0x10001)).a0).toBe(BigInt(SbiError.NOT_SUPPORTED)); // a cache event
      expect(sbiCall(pmu(2, 0, 1, 0, INSTRUCTIONS)).a0).toBe(BigInt(SbiError.NOT_SUPPORTED)); // outside the set
      expect(sbiCall(pmu(2, 0, 8, 0, CYCLES)).a0).toBe(BigInt(SbiError.INVALID_PARAM)); // no counter 3
      const taken = call(2, 0, 7, 0, INSTRUCTIONS);
      expect(sbiCall(taken + pmu(2, 0, 7, 0, INSTRUCTIONS)).a0).toBe(BigInt(SbiError.NOT_SUPPORTED));
      // Linux probes each event so: configure, then stop with RESET although it never started.
      expect(sbiCall(taken + pmu(4, 2, 1, 1)).a0).toBe(BigInt(SbiError.ALREADY_STOPPED));
      expect(sbiCall(taken + call(4, 2, 1, 1) + pmu(2, 0, 7, 0, INSTRUCTIONS))).toEqual({ a0: 0n, a1: 2n });
    });

    it("starts with an initial value, refuses a second start and a second stop", () => {
      const configured = call(2, 0, 7, 0, INSTRUCTIONS);
      expect(sbiCall(pmu(3, 2, 1, 0, 0)).a0).toBe(BigInt(SbiError.INVALID_PARAM)); // not configured
      const started = `${configured}${call(3, 2, 1, 1, 1000)}`;
      // rdinstret right after the start reads the initial value (legacy clear_ipi, which leaves
      // a1 alone, ends the snippet).
      const read = sbiCall(`${started} rdinstret a1\n li a7, 3`);
      expect(read.a1).toBe(1000n);
      expect(sbiCall(`${started}${pmu(3, 2, 1, 0, 0)}`).a0).toBe(BigInt(SbiError.ALREADY_STARTED));
      expect(sbiCall(`${started}${pmu(4, 2, 1, 0)}`).a0).toBe(0n);
      expect(sbiCall(`${started}${call(4, 2, 1, 0)}${pmu(4, 2, 1, 0)}`).a0).toBe(
        BigInt(SbiError.ALREADY_STOPPED),
      );
    });
  });

  it("a snapshot keeps the PMU's configured counters", () => {
    // Configure the instret counter, wait for the host's go, then try to configure it again.
    const src = `
_start:
  li a7, 0x504D55
  li a6, 2
  li a0, 0
  li a1, 7
  li a2, 0
  li a3, 2
  ecall
  la t0, go
1: ld t1, 0(t0)
  beqz t1, 1b
  li a7, 0x504D55
  li a6, 2
  li a0, 0
  li a1, 7
  li a2, 0
  li a3, 2
  ecall
  la t0, result
  sd a0, 0(t0)
  li a0, 0
  li a1, 0
  li a6, 0
  li a7, 0x53525354
  ecall
.data
.align 3
go: .dword 0
result: .dword 0
`;
    registerStrategy(noop);
    const vm = Vm.create(noop, { kernel: assembleElf(src, { base: KERNEL }), memory: 32 * 1024 * 1024 });
    expect(vm.run({ steps: 1000 }).stop).toBe("limit");
    const restored = Vm.restore(vm.snapshot());
    const sym = (name: string) =>
      Number(assemble(src, { base: KERNEL }).symbols.get(name)!) - restored.board.ramBase;
    const view = new DataView(
      restored.board.ram.buffer,
      restored.board.ram.byteOffset,
      restored.board.ram.byteLength,
    );
    view.setBigInt64(sym("go"), 1n, true);
    expect(restored.run({ steps: 100_000 }).stop).toBe("poweroff");
    expect(view.getBigInt64(sym("result"), true)).toBe(BigInt(SbiError.NOT_SUPPORTED)); // still taken
  });

  it("legacy console_getchar returns -1 with no input", () => {
    expect(sbiCall("li a7, 2").a0).toBe(-1n);
  });
});

describe("power and console plumbing", () => {
  it("a syscon failure with code 0 is still reported as a failure", () => {
    const src = `
_start:
  li t0, 0x100000
  li t1, 0x3333          # FAIL with code 0
  sw t1, 0(t0)
1: j 1b
`;
    const vm = Vm.create(noop, { kernel: assembleElf(src, { base: KERNEL }), memory: 32 * 1024 * 1024 });
    expect(vm.run({ steps: 10_000 })).toEqual({ stop: "poweroff", exitStatus: 1 });
  });

  it("console input reaches a guest that reads through the SBI, first byte included", () => {
    // Reads three bytes with the legacy getchar (spinning while it returns -1) and echoes them.
    const src = `
_start:
  li s0, 3
1: li a7, 2
  ecall
  bltz a0, 1b
  li a7, 1
  ecall
  addi s0, s0, -1
  bnez s0, 1b
  li a0, 0
  li a1, 0
  li a6, 0
  li a7, 0x53525354
  ecall
`;
    const vm = Vm.create(noop, { kernel: assembleElf(src, { base: KERNEL }), memory: 32 * 1024 * 1024 });
    let out = "";
    vm.onOutput((b) => {
      out += new TextDecoder().decode(b);
    });
    vm.writeInput(new TextEncoder().encode("abc"));
    expect(vm.run({ steps: 1_000_000 }).stop).toBe("poweroff");
    expect(out).toBe("abc");
  });
});
