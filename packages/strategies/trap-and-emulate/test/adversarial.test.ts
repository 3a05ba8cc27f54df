/**
 * Safety (Popek and Goldberg's resource control): nothing a guest writes into
 * its page tables maps memory outside its VM. An adversarial S-mode guest,
 * assembled here, builds Sv39 tables that point at the VMM's shadow-table
 * pool right above its RAM (4 KiB, 2 MiB and 1 GiB leaves, a page-table
 * pointer into the pool), at physical addresses beyond 4 GiB and below RAM,
 * at a device, and at its own page table (then rewrites its PTEs through
 * that mapping to sweep the pool page by page, loading and storing). Every
 * probe prints what the guest observed; the output must be the emulation
 * baseline's (where the pool does not exist and each of these accesses is an
 * access fault), the shadow must map guest RAM only, and the pool must hold
 * nothing the guest tried to store.
 */
import { emulation } from "@hvkit/emulation";
import { Vm } from "@hvkit/hypervisor";
import { assembleElf } from "@hvkit/isa";
import { describe, expect, it } from "vitest";
import {
  TrapAndEmulateVmm,
  trapAndEmulate,
  trapAndEmulateSfence,
  trapAndEmulateWriteProtect,
} from "../src/index.js";
import { PRINT_DATA, PRINT_ROUTINES } from "./guest-asm.js";

const MIB = 1024 * 1024;
const MEMORY = 32 * MIB;
const RAM = 0x8000_0000;
/** First page above guest RAM: where the VMM's private memory (the shadow pool) starts. */
const POOL = RAM + MEMORY;
/** Stored into every page the guest reaches for. */
const PATTERN = 0x5a5a5a5a;
const SWEEP_PAGES = 64;

const V = 1;
const RW = 0x2 | 0x4;
const RWX = RW | 0x8;
const AD = 0x40 | 0x80;
const pte = (pa: number, flags: number): string =>
  `0x${((Math.floor(pa / 4096) * 1024) | flags).toString(16)}`;
const leaf = (pa: number, perms = RW): string => pte(pa, perms | AD | V);

/** One probe: run `access` with the trap handler armed, print "<name>: ok" or "<name>: fault <cause>". */
function probe(name: string, access: string): string {
  return `
  li s10, -1
${access}
  la a0, name_${name.replace(/-/g, "_")}
  call print_result
`;
}

function names(list: string[]): string {
  return list.map((n) => `name_${n.replace(/-/g, "_")}: .asciz "${n}"`).join("\n");
}

const PROBES = [
  "pool-4k-load",
  "pool-4k-store",
  "pool-2m-load",
  "pool-2m-store",
  "pool-1g-load",
  "pool-1g-store",
  "pool-as-page-table",
  "above-4g-load",
  "below-ram-load",
  "last-guest-page",
  "last-guest-2m",
  "self-map-pool",
  "self-map-ram",
  "uart",
];

function source(): string {
  return `
.globl _start
_start:
  la sp, stack_top
  la t0, trap
  csrw stvec, t0
  # Sv39, root with: [0] -> l1 (probes), [2] -> 1 GiB identity at 0x80000000 (covers RAM and the pool).
  la t0, root
  srli t0, t0, 12
  li t1, 8 << 60
  or t0, t0, t1
  sfence.vma
  csrw satp, t0
  sfence.vma
${probe("pool-4k-load", "  li t0, 0x1000\n  ld t1, 0(t0)")}
${probe("pool-4k-store", `  li t0, 0x1000\n  li t1, ${PATTERN}\n  sd t1, 0(t0)`)}
${probe("pool-2m-load", "  li t0, 0x200000\n  ld t1, 8(t0)")}
${probe("pool-2m-store", `  li t0, 0x200000\n  li t1, ${PATTERN}\n  sd t1, 16(t0)`)}
${probe("pool-1g-load", `  li t0, ${POOL + 0x3000}\n  ld t1, 0(t0)`)}
${probe("pool-1g-store", `  li t0, ${POOL + 0x3000}\n  li t1, ${PATTERN}\n  sd t1, 0(t0)`)}
${probe("pool-as-page-table", "  li t0, 0x400000\n  ld t1, 0(t0)")}
${probe("above-4g-load", "  li t0, 0x3000\n  ld t1, 0(t0)")}
${probe("below-ram-load", "  li t0, 0x9000\n  ld t1, 0(t0)")}
${probe("last-guest-page", `  li t0, 0x6000\n  li t1, ${PATTERN}\n  sd t1, 0(t0)\n  ld t2, 0(t0)\n  bne t1, t2, bad`)}
${probe("last-guest-2m", `  li t0, 0x600000\n  li t1, ${PATTERN}\n  sd t1, 0(t0)\n  ld t2, 0(t0)\n  bne t1, t2, bad`)}
  # Through the self-map at 0x5000, point l0[7] (VA 0x7000) at the pool, then at RAM.
${probe(
  "self-map-pool",
  `  li t0, 0x5000
  li t1, ${leaf(POOL + 0x5000)}
  sd t1, 7*8(t0)
  li t2, 0x7000
  sfence.vma t2
  ld t1, 0(t2)`,
)}
${probe(
  "self-map-ram",
  `  li t0, 0x5000
  li t1, ${leaf(RAM + MEMORY - 0x2000)}
  sd t1, 7*8(t0)
  li t2, 0x7000
  sfence.vma t2
  li t1, ${PATTERN}
  sd t1, 0(t2)
  li t3, ${RAM + MEMORY - 0x2000}
  ld t4, 0(t3)
  bne t1, t4, bad`,
)}
${probe("uart", "  li t0, 0x4000\n  li t1, 'U'\n  sb t1, 0(t0)\n  li t1, '\\n'\n  sb t1, 0(t0)")}
  # Sweep the pool: point l0[8] (VA 0x8000) at each page in turn (an atomic swap, then a
  # plain store), load and store through it, count the faults.
  li s2, 0
  li s3, 0
  li s4, ${POOL}
  li s5, ${SWEEP_PAGES}
sweep:
  srli t1, s4, 12
  slli t1, t1, 10
  ori t1, t1, ${RW | AD | V}
  li t0, 0x5000 + 8*8
  amoswap.d zero, t1, (t0)
  li t2, 0x8000
  sfence.vma t2
  li s10, -1
  ld t3, 0(t2)
  bltz s10, 1f
  addi s2, s2, 1
1:li s10, -1
  li t3, ${PATTERN}
  sd t3, 8(t2)
  bltz s10, 2f
  addi s3, s3, 1
2:li t0, 0x5000
  sd zero, 8*8(t0)
  sfence.vma t2
  li t0, 4096
  add s4, s4, t0
  addi s5, s5, -1
  bnez s5, sweep
  la a0, name_sweep
  call print_str
  mv a0, s2
  call print_dec
  li a0, ' '
  call putc
  mv a0, s3
  call print_dec
  li a0, '\\n'
  call putc
  j done
bad:
  la a0, name_bad
  call print_str
done:
  li a0, 0
  li a1, 0
  li a6, 0
  li a7, 0x53525354
  ecall
1:j 1b

${PRINT_ROUTINES}
.align 2
trap:
  csrr s10, scause
  csrr s11, stval
  csrr t6, sepc
  addi t6, t6, 4
  csrw sepc, t6
  sret

.data
${PRINT_DATA}
name_sweep: .asciz "sweep faults (load store): "
name_bad: .asciz "BAD: a store did not read back\\n"
${names(PROBES)}

.align 12
root:
  .dword ((l1 >> 12) << 10) | ${V}
  .zero 8
  .dword ${pte(RAM, RWX | AD | V)}
  .zero 4096 - 24
l1:
  .dword ((l0 >> 12) << 10) | ${V}
  .dword ${leaf(POOL)}
  .dword ${pte(POOL, V)}
  .dword ${leaf(RAM + MEMORY - 2 * MIB)}
  .zero 4096 - 32
l0:
  .zero 8
  .dword ${leaf(POOL)}
  .dword ${leaf(POOL + 0x1000)}
  .dword ${leaf(2 ** 32 + 0x1000)}
  .dword ${leaf(0x1000_0000)}
  .dword ((l0 >> 12) << 10) | ${RW | AD | V}
  .dword ${leaf(RAM + MEMORY - 0x1000)}
  .zero 16
  .dword ${leaf(RAM - 0x1000)}
  .zero 4096 - 80
stack:
  .zero 4096
stack_top:
`;
}

function guestImage(): Uint8Array {
  return assembleElf(source(), { base: 0x8020_0000n, compress: false });
}

function run(strategy: Parameters<typeof Vm.create>[0]) {
  const vm = Vm.create(strategy, { kernel: guestImage(), memory: MEMORY });
  let output = "";
  vm.onOutput((b) => {
    output += new TextDecoder().decode(b);
  });
  const result = vm.run({ steps: 5_000_000 });
  return { vm, output, result };
}

const expected = [
  "pool-4k-load: fault 5",
  "pool-4k-store: fault 7",
  "pool-2m-load: fault 5",
  "pool-2m-store: fault 7",
  "pool-1g-load: fault 5",
  "pool-1g-store: fault 7",
  "pool-as-page-table: fault 5",
  "above-4g-load: fault 5",
  "below-ram-load: fault 5",
  "last-guest-page: ok",
  "last-guest-2m: ok",
  "self-map-pool: fault 5",
  "self-map-ram: ok",
  "U",
  "uart: ok",
  `sweep faults (load store): ${SWEEP_PAGES} ${SWEEP_PAGES}`,
  "",
].join("\n");

describe("an adversarial guest's page tables cannot reach outside its VM", () => {
  it("under emulation (the baseline), every access outside guest RAM is an access fault", () => {
    const r = run(emulation);
    expect(r.result.stop, r.result.message).toBe("poweroff");
    expect(r.output).toBe(expected);
  });

  it.each([
    ["sfence", trapAndEmulateSfence],
    ["write-protect", trapAndEmulateWriteProtect],
  ])(
    "under trap-and-emulate (%s): the same faults, a shadow of guest RAM only, an untouched pool",
    (policy, strategy) => {
      let vmm: TrapAndEmulateVmm | undefined;
      const spy = {
        ...strategy,
        create(core: Parameters<typeof strategy.create>[0]) {
          vmm = strategy.create(core) as TrapAndEmulateVmm;
          return vmm;
        },
      };
      const r = run(spy);
      expect(r.result.stop, r.result.message).toBe("poweroff");
      expect(r.output).toBe(expected);
      expect(vmm).toBeInstanceOf(TrapAndEmulateVmm);
      expect(vmm!.shadow.check({ safetyOnly: true })).toBeUndefined();
      if (policy === "write-protect") {
        // The guest's PTE writes (the amoswap and the stores through its self-map) all trapped.
        expect(vmm!.shadow.check()).toBeUndefined();
        expect(r.vm.stats.counters["shadow.pteWrites"]).toBeGreaterThanOrEqual(2 * SWEEP_PAGES);
      }
      // Nothing the guest stored reached the VMM's memory.
      const pool = new Uint32Array(
        r.vm.privateRam.buffer,
        r.vm.privateRam.byteOffset,
        r.vm.privateRam.length / 4,
      );
      expect(pool.indexOf(PATTERN)).toBe(-1);
    },
  );

  it("the same holds with a pool just large enough for a few tables (shadows recycled under pressure)", () => {
    const tight = trapAndEmulate({ shadow: "write-protect", shadowMemory: 32 * 1024, name: "t&e-tight" });
    const r = run(tight);
    expect(r.output).toBe(expected);
    expect(r.vm.stats.counters["shadow.poolResets"]).toBeGreaterThan(0);
  });
});
