/*
 * The hvkit paravirtual hypercall ABI, version 1.0: the guest side.
 *
 * The specification is packages/strategies/paravirt/ABI.md (@hvkit/paravirt),
 * which the VMM implements; this header is its C binding. Hypercalls are SBI
 * calls (SBI spec 3: a7 = extension ID, a6 = function ID, a0..a5 = arguments,
 * struct sbiret { error, value } in a0/a1) to one extension in the SBI's
 * vendor-specific range (0x09000000-0x09FFFFFF, SBI spec 3 table 1).
 * Addresses are guest-physical unless a name says "va".
 */
#ifndef HVKIT_PV_H
#define HVKIT_PV_H

/* The extension ID: 0x09 then "HVP". */
#define PV_EID 0x09485650
/* ABI version returned by PV_GET_VERSION: major << 16 | minor. */
#define PV_ABI_VERSION 0x00010000

/* Function IDs (a6). */
#define PV_GET_VERSION 0    /* -> value = PV_ABI_VERSION */
#define PV_SET_SHARED 1     /* a0 = page: register the shared page (4 KiB aligned, guest RAM) */
#define PV_SET_TRAP 2       /* a0 = va: the trap vector; a1 = user counters; a2 = kernel-mode vector (0: none) */
#define PV_SET_ROOT 3       /* a0 = page: switch to the Sv39 root table there (validated, pinned); flushes the TLB */
#define PV_MMU_UPDATE 4     /* a0 = requests, a1 = count, a2 = flush op, a3 = flush va -> value = applied */
#define PV_TLB_FLUSH 5      /* a0 = flush op, a1 = va, a2 = asid */
#define PV_TABLE_RELEASE 6  /* a0 = page: a page-table page the guest freed becomes an ordinary page */
#define PV_IRQ_CHECK 7      /* deliver interrupts held while the virtual flag or mask had them off */
#define PV_IRQ_CLEAR 8      /* a0 = bits (PV_IRQ_SOFT only): clear pending interrupts */
#define PV_SET_TIMER 9      /* a0 = time: a timer interrupt when time >= a0 (UINT64_MAX: none) */
#define PV_CONSOLE_WRITE 10 /* a0 = buffer, a1 = length (at most 4096) -> value = bytes written */
#define PV_IDLE 11          /* wait for an interrupt enabled in the mask; it is delivered before this returns */
#define PV_YIELD 12         /* give up the CPU (returns at once: one vCPU, one VM) */
#define PV_SHUTDOWN 13      /* a0 = 0 success, else failure: power off; does not return */
#define PV_BLK_NOTIFY 14    /* a0 = virtio-mmio base, a1 = queue: new buffers in that queue's ring */
#define PV_TRAP_RETURN 15   /* return from a trap delivered through the shared page (see below); writes no register but a6, a7 */

/* Byte offsets in the shared page (struct pv_shared), for assembly. */
#define PV_SHARED_IRQ_ENABLED 0
#define PV_SHARED_IRQ_MASK 4
#define PV_SHARED_IRQ_PENDING 8
#define PV_SHARED_IRQ_TOGGLES 12
#define PV_SHARED_HYPERCALLS 16
#define PV_SHARED_TRAP_CAUSE 24
#define PV_SHARED_TRAP_EPC 32
#define PV_SHARED_TRAP_TVAL 40
#define PV_SHARED_TRAP_STATUS 48
#define PV_SHARED_KERNEL_SP 56
#define PV_SHARED_USER_SP 64
#define PV_SHARED_RET_A6 72
#define PV_SHARED_RET_A7 80

#ifndef __ASSEMBLER__
#include <stdint.h>

/* Flush operations of PV_MMU_UPDATE (after the updates) and PV_TLB_FLUSH. */
#define PV_FLUSH_NONE 0
#define PV_FLUSH_ALL 1
#define PV_FLUSH_PAGE 2 /* the translation of one va */
#define PV_FLUSH_ASID 3 /* one address space (hvkit's hart has no ASIDs: everything) */

/* Most requests in one PV_MMU_UPDATE (Xen's mmu_update batches up to 2048 too). */
#define PV_MMU_BATCH_MAX 2048

/* One page-table update: store val at the PTE whose guest-physical address is ptr. */
struct pv_mmu_request {
  uint64_t ptr;
  uint64_t val;
};

/* Interrupt bits of the shared page's mask and pending words (the sie / sip bit positions). */
#define PV_IRQ_SOFT (1U << 1)
#define PV_IRQ_TIMER (1U << 5)
#define PV_IRQ_EXTERNAL (1U << 9)

/*
 * The shared page: the guest reads and writes it without trapping; the VMM
 * reads it on every exit and writes it before every entry.
 */
struct pv_shared {
  /* The virtual interrupt-enable flag (sstatus.SIE): 0 or 1. */
  volatile uint32_t irq_enabled;
  /* The virtual interrupt-enable mask (sie): PV_IRQ_* bits. */
  volatile uint32_t irq_mask;
  /* Interrupts the VMM holds because the flag or the mask had them off: PV_IRQ_* bits. */
  volatile uint32_t irq_pending;
  /* Flag and mask changes the guest made without trapping (the guest counts them; the VMM reports them). */
  volatile uint32_t irq_toggles;
  /* The VMM's count of hypercalls served (read-only to the guest). */
  volatile uint64_t hypercalls;
  /*
   * Trap frames (with a kernel-mode vector given to PV_SET_TRAP): what the
   * VMM saved when it delivered the last trap (scause, sepc, stval, sstatus),
   * and what PV_TRAP_RETURN resumes (epc, status: SPP, SPIE, SUM, MXR, FS).
   */
  volatile uint64_t trap_cause;
  volatile uint64_t trap_epc;
  volatile uint64_t trap_tval;
  volatile uint64_t trap_status;
  /* sp for a trap from user mode (the VMM switches to it), and the user's sp it saved. */
  volatile uint64_t kernel_sp;
  volatile uint64_t user_sp;
  /* a6 and a7 as PV_TRAP_RETURN must leave them (the call itself needs both registers). */
  volatile uint64_t ret_a6;
  volatile uint64_t ret_a7;
};

/* Error codes: the SBI's (SBI spec 3.2). */
#define PV_SUCCESS 0
#define PV_ERR_FAILED (-1)
#define PV_ERR_NOT_SUPPORTED (-2)
#define PV_ERR_INVALID_PARAM (-3)
#define PV_ERR_DENIED (-4)
#define PV_ERR_INVALID_ADDRESS (-5)

struct pv_ret {
  long error;
  long value;
};

static inline struct pv_ret pv_call(unsigned long fid, unsigned long arg0, unsigned long arg1, unsigned long arg2,
                                    unsigned long arg3) {
  register unsigned long a0 __asm__("a0") = arg0;
  register unsigned long a1 __asm__("a1") = arg1;
  register unsigned long a2 __asm__("a2") = arg2;
  register unsigned long a3 __asm__("a3") = arg3;
  register unsigned long a6 __asm__("a6") = fid;
  register unsigned long a7 __asm__("a7") = PV_EID;
  __asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a2), "r"(a3), "r"(a6), "r"(a7) : "memory");
  struct pv_ret r = {(long)a0, (long)a1};
  return r;
}

#endif /* __ASSEMBLER__ */
#endif
