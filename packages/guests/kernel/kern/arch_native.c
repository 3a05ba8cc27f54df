/*
 * The arch layer of the native build (hvkit-kernel.elf): privileged
 * instructions and CSRs directly. Firmware services only where S-mode has
 * nothing of its own: the timer without Sstc, and power-off (SBI SRST, then
 * the syscon device).
 */
#include <sbi.h>

#include "arch_native_ops.h"

const char arch_build[] = "native";

static int use_sstc;

void arch_init(void (*trap_vector)(void), int have_sstc) {
  native_set_trap_vector(trap_vector);
  native_allow_user_counters();
  use_sstc = have_sstc;
  arch_timer_stop();
}

void arch_irq_enable(void) { native_irq_enable(); }
void arch_irq_disable(void) { native_irq_disable(); }
void arch_set_irq_mask(uint64_t sie) { native_set_irq_mask(sie); }
uint64_t arch_irq_mask(void) { return native_irq_mask(); }
void arch_clear_soft_irq(void) { native_clear_soft_irq(); }

void arch_set_pagetable(uint64_t *root) { native_set_pagetable(root); }
void arch_set_pte(uint64_t *pte, uint64_t value) { native_set_pte(pte, value); }
void arch_mmu_sync(uint64_t *table) { (void)table; }
void arch_mmu_sync_entry(uint64_t *pte) { (void)pte; }
void arch_release_pagetable(uint64_t *table) { (void)table; }
void arch_flush_tlb_page(uint64_t va) { native_flush_tlb_page(va); }
void arch_flush_tlb_all(void) { native_flush_tlb_all(); }

uint64_t arch_time(void) { return native_time(); }

void arch_timer_set(uint64_t when) {
  if (use_sstc) native_sstc_timer_set(when);
  else sbi_set_timer(when);
}

void arch_timer_stop(void) { arch_timer_set(UINT64_MAX); }

void arch_console_putc(char c) {
  if (boot.uart_base != 0) uart_putc(c);
  else sbi_legacy_putchar(c); /* before the devicetree is read, or a board without a UART */
}

void arch_idle(void) { native_idle(); }

void arch_virtio_notify(uint64_t base, uint32_t queue) { native_virtio_notify(base, queue); }

void arch_shutdown(int failure) {
  sbi_shutdown(failure);
  native_syscon_poweroff(boot.syscon_base, failure); /* SRST missing or refused */
  for (;;) __asm__ volatile("wfi");
}
