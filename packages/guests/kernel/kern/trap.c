/*
 * Trap dispatch (privileged spec 4.1.9 scause). From U-mode: system calls,
 * page faults the kernel resolves (demand-zero, copy-on-write), breakpoints
 * it counts and resumes after, and faults that kill the process. Interrupts:
 * the timer preempts the running process, the PLIC delivers the UART.
 * A trap from S-mode that is not an interrupt is a kernel bug: panic.
 */
#include "kernel.h"

uint64_t quantum_ticks;
uint64_t boot_time;
int pv_batch = 1;
/* The paravirtual build's shared page while traps are delivered through it (entry.S reads it); NULL natively. */
void *pv_frames_page;

static const char *exception_name(uint64_t cause) {
  switch (cause) {
    case EXC_INST_MISALIGNED: return "instruction address misaligned";
    case EXC_INST_ACCESS: return "instruction access fault";
    case EXC_ILLEGAL_INST: return "illegal instruction";
    case EXC_BREAKPOINT: return "breakpoint";
    case EXC_LOAD_MISALIGNED: return "load address misaligned";
    case EXC_LOAD_ACCESS: return "load access fault";
    case EXC_STORE_MISALIGNED: return "store address misaligned";
    case EXC_STORE_ACCESS: return "store access fault";
    case EXC_ECALL_U: return "environment call from U-mode";
    case EXC_ECALL_S: return "environment call from S-mode";
    case EXC_INST_PAGE_FAULT: return "instruction page fault";
    case EXC_LOAD_PAGE_FAULT: return "load page fault";
    case EXC_STORE_PAGE_FAULT: return "store page fault";
    default: return "unknown exception";
  }
}

static void kill_on_fault(struct trapframe *tf) {
  /* A fault the kernel would have resolved but for a free page is an out-of-memory kill: say so. */
  printk("hvkit-kernel: pid %d killed: %s at pc 0x%lx (stval 0x%lx)%s\n", current->pid, exception_name(tf->scause),
         tf->sepc, tf->stval, mem_free_pages() == 0 ? ", out of memory" : "");
  proc_exit(-1);
}

static void external_interrupt(void) {
  uint32_t irq = plic_claim();
  if (irq == 0) return; /* another context claimed it, or it went away */
  if (irq == boot.uart_irq) uart_intr();
  plic_complete(irq);
}

static void user_exception(struct trapframe *tf) {
  uint64_t cause = tf->scause;
  switch (cause) {
    case EXC_ECALL_U:
      tf->sepc += 4; /* ecall has no compressed form */
      syscall(tf);
      return;
    case EXC_BREAKPOINT: {
      /* Resume after the ebreak: 4 bytes, or 2 for c.ebreak (low bits != 11, spec 1.5). */
      uint16_t insn;
      if (copyin(current, &insn, tf->sepc, sizeof insn) < 0) kill_on_fault(tf);
      tf->sepc += (insn & 3) == 3 ? 4 : 2;
      current->breakpoints++;
      return;
    }
    case EXC_LOAD_PAGE_FAULT:
    case EXC_STORE_PAGE_FAULT:
    case EXC_INST_PAGE_FAULT: {
      int access = cause == EXC_STORE_PAGE_FAULT ? 1 : cause == EXC_INST_PAGE_FAULT ? 2 : 0;
      if (uvm_fault(current, tf->stval, access) < 0) kill_on_fault(tf);
      return;
    }
    default:
      kill_on_fault(tf);
  }
}

void trap_handler(struct trapframe *tf) {
  int from_user = (tf->sstatus & SSTATUS_SPP) == 0;
  if (tf->scause & SCAUSE_INTERRUPT) {
    uint64_t irq = tf->scause & ~SCAUSE_INTERRUPT;
    if (irq == IRQ_S_TIMER) {
      arch_timer_stop(); /* Sstc's STIP stays pending until stimecmp moves: the scheduler re-arms */
      if (from_user) yield();
    } else if (irq == IRQ_S_EXT) {
      external_interrupt();
    } else if (irq == IRQ_S_SOFT) {
      arch_clear_soft_irq();
    } else {
      panic("unexpected interrupt %lu", irq);
    }
  } else if (from_user) {
    user_exception(tf);
  } else {
    panic("kernel trap: %s (scause %lu) at pc 0x%lx, stval 0x%lx", exception_name(tf->scause), tf->scause, tf->sepc,
          tf->stval);
  }
  if (from_user && current->killed) proc_exit(-1);
  arch_mmu_sync(NULL); /* PTE writes still queued (paravirtual build) take effect before the context resumes */
}
