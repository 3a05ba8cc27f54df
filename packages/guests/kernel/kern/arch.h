/*
 * The arch layer: every privileged operation of hvkit-kernel goes through
 * these functions, so that one file per build implements them.
 *
 *   arch_native.c  (hvkit-kernel.elf)     privileged instructions and CSRs directly
 *   arch_pv.c      (hvkit-kernel-pv.elf)  the paravirtual build: each operation is a
 *                                         hypercall of the hvkit paravirtual ABI
 *                                         (include/hvkit_pv.h) or an access to the
 *                                         page shared with the VMM
 *
 * Not behind this seam: trap entry and return, which entry.S does natively
 * or, when arch_pv.c sets pv_frames_page, through the shared page of the
 * paravirtual ABI; and the device drivers' register accesses (UART, PLIC,
 * virtio setup), whose MMIO is emulated by the VMM either way (virtio queue
 * kicks are behind the seam).
 */
#ifndef HVKIT_ARCH_H
#define HVKIT_ARCH_H

#include <stdint.h>

/* "native" or "pv": printed in the boot banner. */
extern const char arch_build[];

/* Once at boot, before anything else here: trap vector, counters for U-mode, timer mode. */
void arch_init(void (*trap_vector)(void), int have_sstc);

/* Interrupts of S-mode: sstatus.SIE. */
void arch_irq_enable(void);
void arch_irq_disable(void);
/* The S-mode interrupt-enable mask (sie); a write of the current value has no side effect. */
void arch_set_irq_mask(uint64_t sie);
uint64_t arch_irq_mask(void);
/* Acknowledge a supervisor software interrupt (clear sip.SSIP). */
void arch_clear_soft_irq(void);

/* Address translation: switch to the Sv39 root table at physical address root (flushes the TLB). */
void arch_set_pagetable(uint64_t *root);
/* Write one page-table entry (the only way the kernel writes PTEs: the seam for validated updates). */
void arch_set_pte(uint64_t *pte, uint64_t value);
/* Make PTE writes so far into the table page holding `table` (NULL: any) visible to the kernel's own reads (PV: send the batch). */
void arch_mmu_sync(uint64_t *table);
/* The same for the one entry at pte. */
void arch_mmu_sync_entry(uint64_t *pte);
/* A page-table page is about to be freed (PV: it stops being a page table and becomes writable). */
void arch_release_pagetable(uint64_t *table);
/* sfence.vma for one virtual address, and for everything. */
void arch_flush_tlb_page(uint64_t va);
void arch_flush_tlb_all(void);

/* Time: the time CSR, and the S-mode timer (an interrupt when time >= when; stop disarms it). */
uint64_t arch_time(void);
void arch_timer_set(uint64_t when);
void arch_timer_stop(void);

/* The console: one byte out. */
void arch_console_putc(char c);

/* Wait for an interrupt with interrupts enabled; it has been handled when this returns. */
void arch_idle(void);

/* Tell the virtio-mmio device at base that queue `queue` has new buffers (QueueNotify). */
void arch_virtio_notify(uint64_t base, uint32_t queue);

/* Power off: failure = 0 reports success to the host, anything else a system failure. */
void arch_shutdown(int failure) __attribute__((noreturn));

#endif
