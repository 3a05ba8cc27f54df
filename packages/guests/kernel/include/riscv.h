/*
 * RISC-V privileged architecture definitions for S-mode software: CSR bits,
 * trap causes, Sv39 page-table entries, and small inline helpers.
 * References: RISC-V Privileged Architecture (20211203), chapters 4 and 10;
 * Sstc extension (stimecmp, CSR 0x14D).
 */
#ifndef HVKIT_RISCV_H
#define HVKIT_RISCV_H

#include <stdint.h>

/* sstatus (priv spec 4.1.1). */
#define SSTATUS_SIE (1UL << 1)
#define SSTATUS_SPIE (1UL << 5)
#define SSTATUS_SPP (1UL << 8)
#define SSTATUS_FS (3UL << 13)
#define SSTATUS_FS_INITIAL (1UL << 13)
#define SSTATUS_SUM (1UL << 18)
#define SSTATUS_MXR (1UL << 19)

/* sie / sip (priv spec 4.1.3). */
#define SIE_SSIE (1UL << 1)
#define SIE_STIE (1UL << 5)
#define SIE_SEIE (1UL << 9)

/* scause: the interrupt bit and the codes S-mode sees (priv spec table 4.2). */
#define SCAUSE_INTERRUPT (1UL << 63)
#define IRQ_S_SOFT 1
#define IRQ_S_TIMER 5
#define IRQ_S_EXT 9
#define EXC_INST_MISALIGNED 0
#define EXC_INST_ACCESS 1
#define EXC_ILLEGAL_INST 2
#define EXC_BREAKPOINT 3
#define EXC_LOAD_MISALIGNED 4
#define EXC_LOAD_ACCESS 5
#define EXC_STORE_MISALIGNED 6
#define EXC_STORE_ACCESS 7
#define EXC_ECALL_U 8
#define EXC_ECALL_S 9
#define EXC_INST_PAGE_FAULT 12
#define EXC_LOAD_PAGE_FAULT 13
#define EXC_STORE_PAGE_FAULT 15

/* scounteren: let U-mode read cycle, time and instret (priv spec 4.1.5). */
#define SCOUNTEREN_CY (1UL << 0)
#define SCOUNTEREN_TM (1UL << 1)
#define SCOUNTEREN_IR (1UL << 2)

/* satp (priv spec 4.1.11): MODE in bits 63:60, PPN in 43:0. */
#define SATP_MODE_SV39 (8UL << 60)
#define SATP_SV39(root) (SATP_MODE_SV39 | ((uint64_t)(root) >> 12))

/* Sv39 page-table entries (priv spec 4.4.1). */
#define PAGE_SIZE 4096UL
#define PAGE_SHIFT 12
#define MEGAPAGE_SIZE (2UL * 1024 * 1024)
#define GIGAPAGE_SIZE (1024UL * 1024 * 1024)
#define PTE_V (1UL << 0)
#define PTE_R (1UL << 1)
#define PTE_W (1UL << 2)
#define PTE_X (1UL << 3)
#define PTE_U (1UL << 4)
#define PTE_G (1UL << 5)
#define PTE_A (1UL << 6)
#define PTE_D (1UL << 7)
/* The two RSW bits are the supervisor's own; hvkit-kernel marks copy-on-write pages with one. */
#define PTE_COW (1UL << 8)
#define PTE_PPN_SHIFT 10
#define PTE_LEAF (PTE_R | PTE_W | PTE_X)
#define PA_TO_PTE(pa) (((uint64_t)(pa) >> PAGE_SHIFT) << PTE_PPN_SHIFT)
#define PTE_TO_PA(pte) ((((uint64_t)(pte) >> PTE_PPN_SHIFT) & ((1UL << 44) - 1)) << PAGE_SHIFT)
/* Index into the table of `level` (2 = root) for virtual address va. */
#define VPN(va, level) (((uint64_t)(va) >> (PAGE_SHIFT + 9 * (level))) & 0x1ff)

#define PAGE_ROUND_UP(x) (((uint64_t)(x) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
#define PAGE_ROUND_DOWN(x) ((uint64_t)(x) & ~(PAGE_SIZE - 1))

/*
 * CSR access by name. The Sstc CSR stimecmp (0x14D) is written by number so
 * that assemblers without Sstc support accept it.
 */
#define CSR_STIMECMP 0x14d
#define CSR_STR_(x) #x
#define CSR_STR(x) CSR_STR_(x)
#define csr_read(csr)                                       \
  ({                                                        \
    uint64_t v_;                                            \
    __asm__ volatile("csrr %0, " CSR_STR(csr) : "=r"(v_)); \
    v_;                                                     \
  })
#define csr_write(csr, val) __asm__ volatile("csrw " CSR_STR(csr) ", %0" ::"r"((uint64_t)(val)) : "memory")
#define csr_set(csr, val) __asm__ volatile("csrs " CSR_STR(csr) ", %0" ::"r"((uint64_t)(val)) : "memory")
#define csr_clear(csr, val) __asm__ volatile("csrc " CSR_STR(csr) ", %0" ::"r"((uint64_t)(val)) : "memory")

/* The unprivileged counters (Zicntr); readable in U-mode when scounteren allows it. */
static inline uint64_t rdcycle(void) {
  uint64_t v;
  __asm__ volatile("rdcycle %0" : "=r"(v));
  return v;
}
static inline uint64_t rdinstret(void) {
  uint64_t v;
  __asm__ volatile("rdinstret %0" : "=r"(v));
  return v;
}
static inline uint64_t rdtime(void) {
  uint64_t v;
  __asm__ volatile("rdtime %0" : "=r"(v));
  return v;
}

#endif
