/*
 * The nanobenchmarks that run in the kernel (S-mode), shaped like Adams &
 * Agesen's (ASPLOS 2006): each operation N times between reads of the
 * instret, cycle and time counters, with interrupts off. The per-operation
 * figures include the loop around the operation (a few instructions), and
 * for csr-write and ptemod the call into the arch layer (call-ret measures
 * that call alone).
 */
#include "kernel.h"

#define WARMUP 16 /* untimed iterations first: TLB, caches and translators settle */
#define LSR_THRE 0x20

uint64_t ticks_to_us(uint64_t ticks) {
  /* Split to avoid overflow: (ticks % tb) * 1e6 < 2^63 for any timebase below 9e12 Hz. */
  return ticks / boot.timebase * 1000000 + ticks % boot.timebase * 1000000 / boot.timebase;
}

static uint64_t ticks_to_ns(uint64_t ticks) {
  return ticks / boot.timebase * 1000000000 + ticks % boot.timebase * 1000000000 / boot.timebase;
}

void measure(const char *name, const char *extra, long n, uint64_t instret, uint64_t cycles, uint64_t ticks) {
  uint64_t i = ratio_tenths(instret, (uint64_t)n);
  uint64_t c = ratio_tenths(cycles, (uint64_t)n);
  uint64_t t = ratio_tenths(ticks_to_ns(ticks), (uint64_t)n);
  printk("MEASURE %s n=%ld%s%s instret_per_op=%lu.%lu cycles_per_op=%lu.%lu ns_per_op=%lu.%lu\n", name, n,
         extra ? " " : "", extra ? extra : "", i / 10, i % 10, c / 10, c % 10, t / 10, t % 10);
}

struct counters {
  uint64_t instret, cycles, ticks;
};

static struct counters now(void) {
  struct counters c;
  c.ticks = rdtime();
  c.cycles = rdcycle();
  c.instret = rdinstret();
  return c;
}

static void report(const char *name, const char *extra, long n, struct counters a, struct counters b) {
  measure(name, extra, n, b.instret - a.instret, b.cycles - a.cycles, b.ticks - a.ticks);
}

/* mmio-read: read a device register (the UART's line status), the analogue of x86 `in`. */
int kbench_mmio_read(long n) {
  if (boot.uart_base == 0) {
    printk("CHECK mmio-read n=%ld uart=missing FAIL\n", n);
    return 1;
  }
  uint8_t bad = 0;
  for (int i = 0; i < WARMUP; i++) bad |= (uart_lsr() & LSR_THRE) ^ LSR_THRE;
  struct counters a = now();
  for (long i = 0; i < n; i++) bad |= (uart_lsr() & LSR_THRE) ^ LSR_THRE;
  struct counters b = now();
  /* The UART transmits instantly, so THR is always empty between our writes. */
  printk("CHECK mmio-read n=%ld lsr.thre=%s %s\n", n, bad ? "clear" : "set", bad ? "FAIL" : "ok");
  report("mmio-read", "reg=uart.lsr", n, a, b);
  return bad != 0;
}

/* csr-write: write sie with its own value (no side effect), the analogue of cr8wr. */
int kbench_csr_write(long n) {
  uint64_t mask = arch_irq_mask();
  for (int i = 0; i < WARMUP; i++) arch_set_irq_mask(mask);
  struct counters a = now();
  for (long i = 0; i < n; i++) arch_set_irq_mask(mask);
  struct counters b = now();
  int ok = arch_irq_mask() == mask;
  printk("CHECK csr-write n=%ld sie=0x%lx %s\n", n, mask, ok ? "ok" : "FAIL");
  report("csr-write", "csr=sie", n, a, b);
  return !ok;
}

/* call-ret: a call to a kernel function that is not inlined. The asm hides the value from the optimizer. */
__attribute__((noinline)) uint64_t kbench_callee(uint64_t x) {
  __asm__ volatile("" : "+r"(x));
  return x + 1;
}

int kbench_call_ret(long n) {
  uint64_t acc = 0;
  for (int i = 0; i < WARMUP; i++) acc = kbench_callee(acc);
  struct counters a = now();
  for (long i = 0; i < n; i++) acc = kbench_callee(acc);
  struct counters b = now();
  int ok = acc == (uint64_t)n + WARMUP;
  printk("CHECK call-ret n=%ld calls=%lu %s\n", n, acc - WARMUP, ok ? "ok" : "FAIL");
  report("call-ret", NULL, n, a, b);
  return !ok;
}

/*
 * ptemod: rewrite a live kernel PTE and flush it with sfence.vma, then load
 * through it. The PTE alternates between two pages holding 1 and 2, so the
 * sum of the loads proves every update took effect.
 */
int kbench_ptemod(long n) {
  pte_t *pte = kvm_scratch_pte();
  uint64_t *pages[2] = {page_alloc(), page_alloc()};
  if (pte == NULL || pages[0] == NULL || pages[1] == NULL) panic("ptemod: no scratch page");
  *pages[0] = 1;
  *pages[1] = 2;
  const uint64_t perm = PTE_R | PTE_W | PTE_A | PTE_D | PTE_V;
  volatile uint64_t *va = (volatile uint64_t *)(uintptr_t)kvm_scratch_va;
  uint64_t warm = 0;
  for (int i = 0; i < WARMUP; i++) {
    arch_set_pte(pte, PA_TO_PTE(pages[i & 1]) | perm);
    arch_flush_tlb_page(kvm_scratch_va);
    warm += *va;
  }
  uint64_t sum = 0;
  struct counters a = now();
  for (long i = 0; i < n; i++) {
    arch_set_pte(pte, PA_TO_PTE(pages[i & 1]) | perm);
    arch_flush_tlb_page(kvm_scratch_va);
    sum += *va;
  }
  struct counters b = now();
  arch_set_pte(pte, 0);
  arch_flush_tlb_page(kvm_scratch_va);
  page_put(pages[0]);
  page_put(pages[1]);
  uint64_t expect = (uint64_t)(n - n / 2) * 1 + (uint64_t)(n / 2) * 2;
  int ok = sum == expect && warm == WARMUP / 2 * 3;
  printk("CHECK ptemod n=%ld sum=%lu %s\n", n, sum, ok ? "ok" : "FAIL");
  report("ptemod", NULL, n, a, b);
  return !ok;
}
