/*
 * The arch layer of the paravirtual build (hvkit-kernel-pv.elf): every
 * privileged operation is a hypercall of the hvkit paravirtual ABI
 * (include/hvkit_pv.h; the specification is ABI.md of @hvkit/paravirt), or a
 * load or store on the page shared with the VMM:
 *
 *   interrupts      the virtual flag and mask in the shared page (no trap);
 *                   interrupts the VMM held meanwhile are asked for with
 *                   PV_IRQ_CHECK when the guest turns them back on
 *   page tables     PV_SET_ROOT, and PV_MMU_UPDATE: PTE writes queued and
 *                   sent as one validated batch with the next TLB flush (or
 *                   before the kernel reads a table page they touch:
 *                   arch_mmu_sync), or one call per write with pvbatch=0
 *   TLB             flushes ride on the batch, or PV_TLB_FLUSH
 *   timer, console, idle, shutdown, virtio kicks: hypercalls
 *
 * Like Linux's pvops, the build probes for the extension and falls back to
 * the native sequences when it is absent (so it still boots on the
 * emulation baseline, where the firmware knows no such extension).
 * Trap entry and return go through the shared page too (entry.S:
 * pv_trap_user, pv_trap_kernel, PV_TRAP_RETURN). Still a CSR access: the
 * sstatus read that seeds a new process's trapframe (proc.c), which the VMM
 * emulates and counts as a trap-frame access, not as unexpected.
 */
#include <hvkit_pv.h>
#include <sbi.h>

#include "arch_native_ops.h"

const char arch_build[] = "pv";

/* The extension is there: everything below goes through it. */
static int pv;
static int have_dbcn;

static struct pv_shared shared __attribute__((aligned(4096)));

/* entry.S reads the shared page by these offsets. */
_Static_assert(__builtin_offsetof(struct pv_shared, trap_cause) == PV_SHARED_TRAP_CAUSE, "pv_shared layout");
_Static_assert(__builtin_offsetof(struct pv_shared, user_sp) == PV_SHARED_USER_SP, "pv_shared layout");
_Static_assert(__builtin_offsetof(struct pv_shared, ret_a7) == PV_SHARED_RET_A7, "pv_shared layout");

/* entry.S: the trap entries for traps delivered through the shared page. */
extern void pv_trap_user(void);
extern void pv_trap_kernel(void);

/* Queued PTE writes (guest-physical = kernel-virtual: the kernel maps RAM at VA = PA). */
#define PV_QUEUE 128
static struct pv_mmu_request queue[PV_QUEUE];
static unsigned long queued;
/* The table pages the queued writes touch (up to PV_QUEUE_PAGES; beyond that, any sync sends the batch). */
#define PV_QUEUE_PAGES 8
static uint64_t queued_pages[PV_QUEUE_PAGES];
static unsigned long nqueued_pages;
static int queued_many;
/* A 256-bit filter of the queued entries: a read of an entry not in it needs no sync. */
static uint64_t queued_bits[4];

/*
 * An entry's bit in the filter: its index mixed with its table page, so the
 * same slot of two tables (a parent's PTE and its child's copy in fork) does
 * not collide.
 */
static inline uint64_t pv_filter_bit(const uint64_t *pte) {
  uint64_t p = (uint64_t)(uintptr_t)pte;
  return ((p >> 3) ^ (p >> 12) ^ (p >> 20)) & 255;
}

/* Console bytes, sent per line (or when full, or before idling or powering off). */
static char conbuf[128];
static unsigned long conlen;

static void pv_fail(const char *what, struct pv_ret r) { panic("pv: %s refused (error %ld)", what, r.error); }

void arch_init(void (*trap_vector)(void), int have_sstc) {
  (void)have_sstc;
  /* The probe: a firmware without the extension answers NOT_SUPPORTED (SBI spec 3). */
  struct pv_ret v = pv_call(PV_GET_VERSION, 0, 0, 0, 0);
  pv = v.error == PV_SUCCESS && (v.value >> 16) == (long)(PV_ABI_VERSION >> 16);
  if (pv) {
    struct pv_ret r = pv_call(PV_SET_SHARED, (unsigned long)(uintptr_t)&shared, 0, 0, 0);
    if (r.error) pv_fail("shared page", r);
    /* Traps through the shared page (entry.S's pv_trap_user / pv_trap_kernel), not the native vector. */
    (void)trap_vector;
    r = pv_call(PV_SET_TRAP, (unsigned long)(uintptr_t)pv_trap_user, SCOUNTEREN_CY | SCOUNTEREN_TM | SCOUNTEREN_IR,
                (unsigned long)(uintptr_t)pv_trap_kernel, 0);
    if (r.error) pv_fail("trap vector", r);
    pv_frames_page = &shared;
  } else {
    native_set_trap_vector(trap_vector);
    native_allow_user_counters();
    have_dbcn = sbi_probe(SBI_EXT_DBCN);
  }
  arch_timer_stop();
}

/* Ask for held interrupts when the flag and the mask now let one in. */
static void pv_irq_recheck(void) {
  __asm__ volatile("fence rw, rw" ::: "memory");
  if (shared.irq_enabled && (shared.irq_pending & shared.irq_mask)) pv_call(PV_IRQ_CHECK, 0, 0, 0, 0);
}

void arch_irq_enable(void) {
  if (!pv) return native_irq_enable();
  shared.irq_enabled = 1;
  shared.irq_toggles++;
  pv_irq_recheck();
}

void arch_irq_disable(void) {
  if (!pv) return native_irq_disable();
  shared.irq_enabled = 0;
  shared.irq_toggles++;
}

void arch_set_irq_mask(uint64_t sie) {
  if (!pv) return native_set_irq_mask(sie);
  shared.irq_mask = (uint32_t)sie;
  shared.irq_toggles++;
  pv_irq_recheck();
}

uint64_t arch_irq_mask(void) { return pv ? shared.irq_mask : native_irq_mask(); }

void arch_clear_soft_irq(void) {
  if (!pv) return native_clear_soft_irq();
  pv_call(PV_IRQ_CLEAR, PV_IRQ_SOFT, 0, 0, 0);
}

/* Send the queued PTE writes, then flush as `op` says. */
static void pv_mmu_flush(unsigned long op, uint64_t va) {
  unsigned long n = queued;
  queued = 0;
  nqueued_pages = 0;
  queued_many = 0;
  queued_bits[0] = queued_bits[1] = queued_bits[2] = queued_bits[3] = 0;
  struct pv_ret r;
  if (n == 0) {
    if (op == PV_FLUSH_NONE) return;
    r = pv_call(PV_TLB_FLUSH, op, va, 0, 0);
  } else {
    r = pv_call(PV_MMU_UPDATE, (unsigned long)(uintptr_t)queue, n, op, va);
    if (r.error == PV_SUCCESS && (unsigned long)r.value != n) r.error = PV_ERR_FAILED;
  }
  if (r.error) pv_fail("mmu_update", r);
}

void arch_mmu_sync(uint64_t *table) {
  if (!pv || queued == 0) return;
  int hit = table == NULL || queued_many;
  uint64_t page = (uint64_t)(uintptr_t)table & ~(uint64_t)(PAGE_SIZE - 1);
  for (unsigned long i = 0; !hit && i < nqueued_pages; i++) hit = queued_pages[i] == page;
  if (hit) pv_mmu_flush(PV_FLUSH_NONE, 0);
}

void arch_mmu_sync_entry(uint64_t *pte) {
  if (!pv || queued == 0) return;
  uint64_t bit = pv_filter_bit(pte);
  if (queued_bits[bit >> 6] & (1UL << (bit & 63))) pv_mmu_flush(PV_FLUSH_NONE, 0);
}

void arch_set_pagetable(uint64_t *root) {
  if (!pv) return native_set_pagetable(root);
  arch_mmu_sync(NULL);
  struct pv_ret r = pv_call(PV_SET_ROOT, (unsigned long)(uintptr_t)root, 0, 0, 0);
  if (r.error) pv_fail("set_root", r);
}

void arch_set_pte(uint64_t *pte, uint64_t value) {
  if (!pv) return native_set_pte(pte, value);
  uint64_t page = (uint64_t)(uintptr_t)pte & ~(uint64_t)(PAGE_SIZE - 1);
  unsigned long i = 0;
  while (i < nqueued_pages && queued_pages[i] != page) i++;
  if (i == nqueued_pages) {
    if (nqueued_pages < PV_QUEUE_PAGES) queued_pages[nqueued_pages++] = page;
    else queued_many = 1;
  }
  uint64_t bit = pv_filter_bit(pte);
  queued_bits[bit >> 6] |= 1UL << (bit & 63);
  queue[queued].ptr = (uint64_t)(uintptr_t)pte;
  queue[queued].val = value;
  queued++;
  if (!pv_batch || queued == PV_QUEUE) pv_mmu_flush(PV_FLUSH_NONE, 0);
}

void arch_release_pagetable(uint64_t *table) {
  if (!pv) return;
  arch_mmu_sync(NULL);
  struct pv_ret r = pv_call(PV_TABLE_RELEASE, (unsigned long)(uintptr_t)table, 0, 0, 0);
  if (r.error) pv_fail("table_release", r);
}

void arch_flush_tlb_page(uint64_t va) {
  if (!pv) return native_flush_tlb_page(va);
  pv_mmu_flush(PV_FLUSH_PAGE, va);
}

void arch_flush_tlb_all(void) {
  if (!pv) return native_flush_tlb_all();
  pv_mmu_flush(PV_FLUSH_ALL, 0);
}

/* The time CSR stays readable directly (counters are granted with PV_SET_TRAP), as for native. */
uint64_t arch_time(void) { return native_time(); }

void arch_timer_set(uint64_t when) {
  if (pv) pv_call(PV_SET_TIMER, when, 0, 0, 0);
  else sbi_set_timer(when);
}

void arch_timer_stop(void) { arch_timer_set(UINT64_MAX); }

static void pv_console_flush(void) {
  if (conlen == 0) return;
  pv_call(PV_CONSOLE_WRITE, (unsigned long)(uintptr_t)conbuf, conlen, 0, 0);
  conlen = 0;
}

void arch_console_putc(char c) {
  if (pv) {
    conbuf[conlen++] = c;
    if (c == '\n' || conlen == sizeof conbuf) pv_console_flush();
  } else if (have_dbcn) {
    sbi_call(SBI_EXT_DBCN, 2, (unsigned char)c, 0, 0);
  } else {
    sbi_legacy_putchar(c);
  }
}

void arch_idle(void) {
  if (!pv) return native_idle();
  pv_console_flush();
  pv_call(PV_IDLE, 0, 0, 0, 0);
}

void arch_virtio_notify(uint64_t base, uint32_t queue_index) {
  if (!pv) return native_virtio_notify(base, queue_index);
  pv_call(PV_BLK_NOTIFY, base, queue_index, 0, 0);
}

void arch_shutdown(int failure) {
  if (pv) {
    pv_console_flush();
    pv_call(PV_SHUTDOWN, (unsigned long)failure, 0, 0, 0);
  }
  sbi_shutdown(failure);
  native_syscon_poweroff(boot.syscon_base, failure);
  for (;;) __asm__ volatile("wfi");
}
