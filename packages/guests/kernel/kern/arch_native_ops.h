/*
 * The native sequences of the arch layer (privileged instructions and CSRs),
 * as inline functions so that both arch files can use them: arch_native.c is
 * nothing but these, and arch_pv.c falls back to them when the paravirtual
 * extension is absent.
 */
#ifndef HVKIT_ARCH_NATIVE_OPS_H
#define HVKIT_ARCH_NATIVE_OPS_H

#include "kernel.h"

static inline void native_set_trap_vector(void (*vector)(void)) {
  csr_write(stvec, (uint64_t)(uintptr_t)vector); /* direct mode: the vector is 4-byte aligned */
}

static inline void native_allow_user_counters(void) {
  csr_write(scounteren, SCOUNTEREN_CY | SCOUNTEREN_TM | SCOUNTEREN_IR);
}

static inline void native_irq_enable(void) { csr_set(sstatus, SSTATUS_SIE); }
static inline void native_irq_disable(void) { csr_clear(sstatus, SSTATUS_SIE); }
static inline void native_set_irq_mask(uint64_t sie) { csr_write(sie, sie); }
static inline uint64_t native_irq_mask(void) { return csr_read(sie); }
static inline void native_clear_soft_irq(void) { csr_clear(sip, SIE_SSIE); }

static inline void native_set_pagetable(uint64_t *root) {
  /* satp does not flush the TLB; without ASIDs, flush everything after the switch (spec 4.1.11). */
  csr_write(satp, SATP_SV39(root));
  __asm__ volatile("sfence.vma zero, zero" ::: "memory");
}

static inline void native_set_pte(uint64_t *pte, uint64_t value) {
  /* A volatile store: the walker reads it, and the fence that follows must see it. */
  *(volatile uint64_t *)pte = value;
}

static inline void native_flush_tlb_page(uint64_t va) {
  __asm__ volatile("sfence.vma %0, zero" ::"r"(va) : "memory");
}

static inline void native_flush_tlb_all(void) { __asm__ volatile("sfence.vma zero, zero" ::: "memory"); }

static inline uint64_t native_time(void) { return rdtime(); }

/* Sstc: S-mode owns stimecmp; an interrupt is pending while time >= stimecmp. */
static inline void native_sstc_timer_set(uint64_t when) { csr_write(CSR_STIMECMP, when); }

static inline void native_idle(void) {
  /*
   * WFI resumes when an interrupt enabled in sie is pending even with
   * sstatus.SIE = 0 (spec 3.3.3), so check-then-wait has no lost-wakeup
   * window; the interrupt is then taken in the short SIE = 1 window.
   */
  __asm__ volatile("wfi" ::: "memory");
  csr_set(sstatus, SSTATUS_SIE);
  csr_clear(sstatus, SSTATUS_SIE);
}

static inline void native_virtio_notify(uint64_t base, uint32_t queue) {
  *(volatile uint32_t *)(uintptr_t)(base + 0x050) = queue; /* QueueNotify (virtio 1.x 4.2.2) */
}

/* The SiFive test device: 0x5555 powers off passing, (code << 16) | 0x3333 failing. */
static inline void native_syscon_poweroff(uint64_t base, int failure) {
  if (base != 0) *(volatile uint32_t *)(uintptr_t)base = failure ? (1U << 16) | 0x3333 : 0x5555;
}

#endif
