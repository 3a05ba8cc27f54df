/**
 * The VMM-core hooks for strategies that deprivilege the guest (trap-and-
 * emulate first; binary translation and paravirt later): VMM-private RAM the
 * guest cannot name, the ISA profile given to the hart, SBI calls served from
 * a strategy's virtual S-mode, emulated WFI (time skip or idle), and the
 * notifications of remote fences and of guest RAM written by the core.
 */
import { Cause, PRV_S } from "@hvkit/cpu";
import { assembleElf, NON_VIRTUALIZABLE_PROFILE, STANDARD_PROFILE } from "@hvkit/isa";
import { readDtb } from "@hvkit/machine";
import { describe, expect, it } from "vitest";
import {
  HypervisorError,
  resolveConfig,
  SbiError,
  type StrategyDefinition,
  type StrategyInstance,
  Vm,
  type VmConfig,
  type VmCore,
} from "../src/index.js";

const KERNEL = 0x80200000n;
const MIB = 1024 * 1024;

const POWEROFF = `
  li a0, 0
  li a1, 0
  li a6, 0
  li a7, 0x53525354
  ecall
1: j 1b
`;

/**
 * A test strategy: `ebreak` in S-mode stands for an instruction the strategy
 * emulates; `onBreak` decides what it does (the pc then moves past it).
 */
function breakStrategy(
  onBreak: (core: VmCore) => void,
  extra: Partial<StrategyDefinition> & { instance?: Partial<StrategyInstance> } = {},
): StrategyDefinition {
  const { instance, ...def } = extra;
  return {
    name: "test-break",
    description: "ebreak is an emulated instruction",
    techniques: { cpu: "trap-and-emulate", memory: "native", io: [] },
    create(core) {
      return {
        start() {
          core.hart.exitOnException[PRV_S]! |= 1 << Cause.BREAKPOINT;
        },
        handleExit(e) {
          if (e.cause !== Cause.BREAKPOINT) return false;
          onBreak(core);
          core.hart.setPc(e.pc + 4n);
          return true;
        },
        ...instance,
      };
    },
    ...def,
  };
}

function vmFor(strategy: StrategyDefinition, src: string, config: Partial<VmConfig> = {}): Vm {
  return Vm.create(strategy, {
    kernel: assembleElf(src, { base: KERNEL, compress: false }),
    memory: 32 * MIB,
    ...config,
  });
}

describe("VMM-private memory", () => {
  const strategy = breakStrategy(() => {}, { privateMemory: () => 2 * MIB });

  it("sits right above guest RAM, outside the devicetree, addressable by the hart", () => {
    const vm = vmFor(strategy, `_start:${POWEROFF}`);
    expect(vm.privateRam.length).toBe(2 * MIB);
    expect(vm.privateRamBase).toBe(0x8000_0000 + 32 * MIB);
    expect(vm.board.ram.length).toBe(32 * MIB);
    expect(vm.hart.ramSize).toBe(34 * MIB);
    const dtb = vm.board.devicetree();
    expect(readDtb(dtb).root.find("/memory@80000000")?.cells("reg")).toEqual([0, 0x8000_0000, 0, 32 * MIB]);
  });

  it("is out of reach of the SBI: a DBCN write from it is refused", () => {
    const src = `
_start:
  li a7, 0x4442434E
  li a6, 0
  li a0, 16
  li a1, ${0x8000_0000 + 32 * MIB}
  li a2, 0
  ecall
  mv s0, a0
${POWEROFF}`;
    const vm = vmFor(strategy, src);
    vm.privateRam.fill(0x41);
    let out = "";
    vm.onOutput((b) => {
      out += new TextDecoder().decode(b);
    });
    expect(vm.run({ steps: 10_000 }).stop).toBe("poweroff");
    expect(out).toBe("");
    expect(vm.hart.getX(8)).toBe(BigInt(SbiError.INVALID_PARAM));
  });

  it("is refused when it is not whole pages, or when guest RAM plus it exceed the board", () => {
    const odd = breakStrategy(() => {}, { privateMemory: () => 100 });
    expect(() => vmFor(odd, `_start:${POWEROFF}`)).toThrowError(/multiple of 4 KiB/);
    const big = breakStrategy(() => {}, { privateMemory: () => 64 * MIB });
    try {
      vmFor(big, `_start:${POWEROFF}`, { memory: 2048 * MIB });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(HypervisorError);
      expect((e as HypervisorError).code).toBe("HV_INVALID_CONFIG");
    }
  });
});

describe("the ISA profile", () => {
  it("defaults to the standard profile and reaches the hart", () => {
    const kernel = assembleElf(`_start:${POWEROFF}`, { base: KERNEL });
    expect(resolveConfig({ kernel }).isaProfile).toBe(STANDARD_PROFILE);
    const vm = vmFor(
      breakStrategy(() => {}),
      `_start:${POWEROFF}`,
      { isaProfile: NON_VIRTUALIZABLE_PROFILE },
    );
    expect(vm.hart.isaProfile).toBe(NON_VIRTUALIZABLE_PROFILE);
  });

  it("refuses something that is not a profile", () => {
    const kernel = assembleElf(`_start:${POWEROFF}`, { base: KERNEL });
    expect(() => resolveConfig({ kernel, isaProfile: {} as never })).toThrowError(/isaProfile/);
  });
});

describe("hypercalls from a strategy's virtual S-mode", () => {
  it("core.hypercall() serves the SBI call in the registers and counts it", () => {
    // ebreak stands for the guest kernel's ecall arriving some other way (e.g. as an ecall from U).
    const strategy = breakStrategy((core) => {
      expect(core.hypercall()).toBe(true);
    });
    const src = `
_start:
  li a7, 0x4442434E
  li a6, 2
  li a0, 'h'
  ebreak
  li a0, 'i'
  ebreak
${POWEROFF}`;
    const vm = vmFor(strategy, src);
    let out = "";
    vm.onOutput((b) => {
      out += new TextDecoder().decode(b);
    });
    expect(vm.run({ steps: 10_000 }).stop).toBe("poweroff");
    expect(out).toBe("hi");
    expect(vm.stats.hypercalls.byName["dbcn.console_write_byte"]).toBe(2);
    expect(vm.stats.exits.byReason.sbi).toBe(3); // two through the hook, the power-off directly
  });
});

describe("emulated WFI", () => {
  const wfiAsBreak = breakStrategy((core) => core.waitForInterrupt(core.hart.csr[4]! /* mie */));

  it("skips guest time to the timer the guest armed", () => {
    const src = `
_start:
  li t0, 1 << 5
  csrw sie, t0
  rdtime s0
  li t1, 100000
  add t1, s0, t1
  csrw stimecmp, t1
  ebreak
  rdtime s1
${POWEROFF}`;
    const vm = vmFor(wfiAsBreak, src);
    expect(vm.run({ steps: 10_000 }).stop).toBe("poweroff");
    const slept = vm.hart.getX(9) - vm.hart.getX(8);
    expect(slept).toBeGreaterThanOrEqual(100000n);
    expect(slept).toBeLessThan(100100n);
    expect(vm.hart.cycles).toBeLessThan(1000);
  });

  it("stops the run as idle when no timer can wake the guest", () => {
    const vm = vmFor(wfiAsBreak, `_start:\n  ebreak\n${POWEROFF}`);
    expect(vm.run({ steps: 10_000 }).stop).toBe("idle");
  });
});

describe("notifications", () => {
  it("an SBI remote fence reaches the strategy's remoteFence", () => {
    let fences = 0;
    const strategy = breakStrategy(() => {}, { instance: { remoteFence: () => fences++ } });
    const src = `
_start:
  li a7, 0x52464E43   # RFENCE
  li a6, 1            # remote_sfence_vma
  li a0, 1            # hart mask: hart 0
  li a1, 0
  li a2, 0
  li a3, -1
  ecall
  li a7, 6            # legacy remote_sfence_vma
  li a0, 0
  ecall
${POWEROFF}`;
    expect(vmFor(strategy, src).run({ steps: 10_000 }).stop).toBe("poweroff");
    expect(fences).toBe(2);
  });

  it("guest RAM written by the SBI (a DBCN console read) reaches guestMemoryWritten", () => {
    const writes: [number, number][] = [];
    const strategy = breakStrategy(() => {}, {
      instance: { guestMemoryWritten: (pa, n) => writes.push([pa, n]) },
    });
    const src = `
_start:
  li a7, 0x4442434E
  li a6, 1
  li a0, 8
  la a1, buf
  li a2, 0
  ecall
${POWEROFF}
.data
buf: .zero 8
`;
    const vm = vmFor(strategy, src);
    vm.writeInput(new TextEncoder().encode("abc"));
    expect(vm.run({ steps: 10_000 }).stop).toBe("poweroff");
    expect(writes).toHaveLength(1);
    expect(writes[0]![1]).toBe(3);
  });
});
