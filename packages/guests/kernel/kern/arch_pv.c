/*
 * The arch layer of the paravirtual build (hvkit-kernel-pv.elf).
 *
 * PENDING THE PARAVIRT ISSUE: the hypercall ABI (an SBI extension in the
 * vendor range: a virtual interrupt flag in a shared page, validated and
 * batched page-table updates in the style of Xen's mmu_update, timer,
 * console) is defined there. Until then this file uses SBI calls where the
 * SBI already is the paravirtual interface (console, timer, power-off), and
 * the native sequences everywhere else; each function names the hypercall
 * that will replace it. Swapping this one file is the whole port.
 */
#include <sbi.h>

#include "arch_native_ops.h"

const char arch_build[] = "pv";

static int have_dbcn;

void arch_init(void (*trap_vector)(void), int have_sstc) {
  (void)have_sstc; /* the timer goes through SBI TIME either way */
  /* PV: trap delivery is registered with the hypervisor (the vector moves into the ABI). */
  native_set_trap_vector(trap_vector);
  /* PV: counter access is granted by the hypervisor; nothing to do in the guest. */
  native_allow_user_counters();
  have_dbcn = sbi_probe(SBI_EXT_DBCN);
  arch_timer_stop();
}

/* PV: a virtual interrupt flag in the shared page (no exit); pending interrupts checked on enable. */
void arch_irq_enable(void) { native_irq_enable(); }
void arch_irq_disable(void) { native_irq_disable(); }
/* PV: the virtual interrupt mask in the shared page. */
void arch_set_irq_mask(uint64_t sie) { native_set_irq_mask(sie); }
uint64_t arch_irq_mask(void) { return native_irq_mask(); }
void arch_clear_soft_irq(void) { native_clear_soft_irq(); }

/* PV: a "switch address space" hypercall with a root the hypervisor has validated (pinned). */
void arch_set_pagetable(uint64_t *root) { native_set_pagetable(root); }
/* PV: a validated page-table update, batched until the next flush (mmu_update). */
void arch_set_pte(uint64_t *pte, uint64_t value) { native_set_pte(pte, value); }
/* PV: flushes travel with the batched updates. */
void arch_flush_tlb_page(uint64_t va) { native_flush_tlb_page(va); }
void arch_flush_tlb_all(void) { native_flush_tlb_all(); }

/* The time CSR stays readable directly (scounteren/hcounteren), as for native. */
uint64_t arch_time(void) { return native_time(); }

/* The SBI TIME extension: already a hypercall. */
void arch_timer_set(uint64_t when) { sbi_set_timer(when); }
void arch_timer_stop(void) { sbi_set_timer(UINT64_MAX); }

/* The SBI debug console (DBCN write_byte), or the legacy putchar: a hypercall, not UART MMIO. */
void arch_console_putc(char c) {
  if (have_dbcn) sbi_call(SBI_EXT_DBCN, 2, (unsigned char)c, 0, 0);
  else sbi_legacy_putchar(c);
}

/* PV: a "block until an event" hypercall (the hypervisor can run someone else). */
void arch_idle(void) { native_idle(); }

void arch_shutdown(int failure) {
  sbi_shutdown(failure);
  native_syscon_poweroff(boot.syscon_base, failure);
  for (;;) __asm__ volatile("wfi");
}
