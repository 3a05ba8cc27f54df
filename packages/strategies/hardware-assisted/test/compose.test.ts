/**
 * "Compose your own" (the nested-paging README's example, kept runnable
 * here): a minimal hardware-assisted strategy made of @hvkit/nested-paging's
 * G-stage tables and the hart's exit controls: SBI calls and aligned device
 * accesses exit, everything else stays in the guest. It runs the built-in
 * guests (SBI, Sstc timer interrupts, WFI, sret) as emulation does. And the
 * options of `hardwareAssisted` compose the full strategy differently.
 */
import { Cause, CsrSlot, ExitReason, Irq, PRV_S, writeCsr } from "@hvkit/cpu";
import { emulation } from "@hvkit/emulation";
import { hvkitKernelGuests } from "@hvkit/guests/node";
import type { StrategyDefinition } from "@hvkit/hypervisor";
import { builtinGuests, contractSuite } from "@hvkit/hypervisor/testing";
import { CSR } from "@hvkit/isa";
import { NestedPageTables } from "@hvkit/nested-paging";
import { hardwareAssisted } from "../src/index.js";

// --- the README example, from here ---
const VS_IRQS = (1 << Irq.VSSI) | (1 << Irq.VSTI) | (1 << Irq.VSEI);

const tinyHypervisor: StrategyDefinition = {
  name: "tiny-hardware-assisted",
  description: "the guest in VS-mode on nested paging; SBI and device accesses exit",
  techniques: { cpu: "hardware-assisted", memory: "nested-paging", io: ["emulated"] },
  hypervisorExtension: true, // the board's hart gets the H extension
  privateMemory: (config) => NestedPageTables.poolBytes(config.memory),
  create(core) {
    const hart = core.hart;
    return {
      start() {
        // G-stage tables in VMM-private RAM: guest RAM mapped to itself, nothing else.
        new NestedPageTables({
          hart,
          guestRamSize: core.config.memory,
          poolBase: core.privateRamBase,
          poolBytes: core.privateRam.length,
        }).activate();
        // The guest's traps and interrupts are its own; its Sstc timer is vstimecmp.
        writeCsr(hart, CSR.hedeleg, hart.csr[CsrSlot.MEDELEG]!, 0);
        writeCsr(hart, CSR.hideleg, VS_IRQS, 0);
        writeCsr(hart, CSR.hcounteren, hart.csr[CsrSlot.MCOUNTEREN]!, 0);
        writeCsr(hart, CSR.henvcfg, 0, hart.csr[CsrSlot.MENVCFG + 1]!);
        // Exit on SBI calls, and on loads and stores below RAM (the devices).
        hart.guestExits.exceptions = 1 << Cause.ECALL_VS;
        hart.guestExits.addMmio(0, hart.ramBase);
        hart.setMode(PRV_S, 1); // enter the guest in VS-mode
      },
      handleExit(e) {
        if (e.reason === ExitReason.TRAP && e.cause === Cause.ECALL_VS) {
          core.hypercall(); // the VMM core's SBI
          hart.setPc(e.pc + 4n);
          return true;
        }
        if (e.reason === ExitReason.MMIO) {
          const bus = hart.bus;
          const size = e.size as 1 | 2 | 4 | 8;
          if (e.write ? !bus.store(e.gpaLo >>> 0, size, e.dataLo, e.dataHi) : !bus.load(e.gpaLo >>> 0, size))
            return false; // a real VMM injects the access fault (see @hvkit/hardware-assisted)
          hart.completeExit(bus.dataLo, bus.dataHi); // write rd, step past the instruction
          return true;
        }
        return false; // anything else stops the VM with a fault
      },
    };
  },
};
// --- to here ---

contractSuite({
  baseline: emulation,
  strategies: [
    tinyHypervisor,
    // The full strategy composed differently: nested paging with Sv48x4 and 2 MiB leaves,
    // and an exit on every CSR access and WFI, as an experiment on the cost of exiting.
    hardwareAssisted({
      gstageMode: "sv48x4",
      gstagePageSize: "2m",
      exitOn: { csr: "all", instructions: ["wfi"] },
      name: "hardware-assisted (sv48x4, 2m, csr=all)",
    }),
  ],
  guests: [...builtinGuests(), ...hvkitKernelGuests({ workloads: ["syscall", "mmio-read"] })],
});
