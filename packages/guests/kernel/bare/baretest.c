/*
 * bare-test: a self-checking bare-metal program for quick smoke runs of a
 * strategy. It checks what a kernel relies on before any kernel runs: SBI
 * calls, the M and A extensions' corner cases, the FPU, CSRs, exceptions and
 * interrupts through stvec, the SBI timer with WFI, Sv39 paging, and the
 * counters. Each check prints "CHECK bare <name> ok|FAIL"; results never
 * include counter values, so the output is the same under every strategy.
 */
#include "bare.h"

#include <string.h>

static int tests, failures;

static void expect(const char *name, int ok) {
  tests++;
  failures += !ok;
  bare_printf("CHECK bare %s %s\n", name, ok ? "ok" : "FAIL");
}

/* ---- traps ---- */

static volatile uint64_t last_cause, last_tval, timer_ticks;
static volatile int expecting; /* an exception the current check provokes on purpose */

void bare_trap(struct bare_frame *f) {
  if (f->scause & SCAUSE_INTERRUPT) {
    if ((f->scause & ~SCAUSE_INTERRUPT) == IRQ_S_TIMER) {
      timer_ticks++;
      sbi_set_timer(UINT64_MAX); /* clears the pending timer interrupt (SBI TIME) */
      return;
    }
    bare_printf("bare-test: unexpected interrupt %lu\n", f->scause & ~SCAUSE_INTERRUPT);
    bare_exit(1);
  }
  if (!expecting) {
    bare_printf("bare-test: unexpected exception %lu at 0x%lx (stval 0x%lx)\n", f->scause, f->sepc, f->stval);
    bare_exit(1);
  }
  expecting = 0;
  last_cause = f->scause;
  last_tval = f->stval;
  /* Every provoked exception is a 4-byte instruction (.option norvc): resume after it. */
  f->sepc += 4;
}

/* ---- checks ---- */

static void check_sbi(void) {
  struct sbiret v = sbi_call(SBI_EXT_BASE, SBI_BASE_GET_SPEC_VERSION, 0, 0, 0);
  uint64_t major = ((uint64_t)v.value >> 24) & 0x7f, minor = (uint64_t)v.value & 0xffffff;
  expect("sbi-spec-version", v.error == 0 && (major > 0 || minor >= 2));
  expect("sbi-probe", sbi_probe(SBI_EXT_BASE) && sbi_probe(SBI_EXT_TIME) && !sbi_probe(0x0a000000));
  struct sbiret bad = sbi_call(0x0a000000, 0, 0, 0, 0);
  expect("sbi-unknown-extension", bad.error == SBI_ERR_NOT_SUPPORTED);
}

static uint64_t op_div(uint64_t a, uint64_t b) {
  uint64_t r;
  __asm__ volatile("div %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
static uint64_t op_divu(uint64_t a, uint64_t b) {
  uint64_t r;
  __asm__ volatile("divu %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
static uint64_t op_rem(uint64_t a, uint64_t b) {
  uint64_t r;
  __asm__ volatile("rem %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
static uint64_t op_mulh(uint64_t a, uint64_t b) {
  uint64_t r;
  __asm__ volatile("mulh %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
static uint64_t op_mulhu(uint64_t a, uint64_t b) {
  uint64_t r;
  __asm__ volatile("mulhu %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
static uint64_t op_divw(uint64_t a, uint64_t b) {
  uint64_t r;
  __asm__ volatile("divw %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
}

static void check_m(void) {
  const uint64_t min = 1ULL << 63;
  /* Division by zero and overflow do not trap (unprivileged spec 13.2): fixed results. */
  expect("m-div-by-zero", op_div(7, 0) == UINT64_MAX && op_divu(7, 0) == UINT64_MAX && op_rem(7, 0) == 7);
  expect("m-div-overflow", op_div(min, UINT64_MAX) == min && op_rem(min, UINT64_MAX) == 0);
  expect("m-mulh", op_mulh(UINT64_MAX, UINT64_MAX) == 0 && op_mulhu(UINT64_MAX, UINT64_MAX) == UINT64_MAX - 1 &&
                       op_mulh(min, 2) == UINT64_MAX);
  /* divw works on the low 32 bits and sign-extends: -2^31 / -1 = -2^31. */
  expect("m-divw", op_divw(0x80000000ULL, UINT64_MAX) == 0xffffffff80000000ULL);
}

static void check_a(void) {
  static uint64_t word = 40;
  uint64_t old, ok = 1;
  __asm__ volatile("amoadd.d %0, %2, (%1)" : "=r"(old) : "r"(&word), "r"(2ULL) : "memory");
  ok &= old == 40 && word == 42;
  __asm__ volatile("amoswap.d %0, %2, (%1)" : "=r"(old) : "r"(&word), "r"(7ULL) : "memory");
  ok &= old == 42 && word == 7;
  __asm__ volatile("amomax.d %0, %2, (%1)" : "=r"(old) : "r"(&word), "r"((uint64_t)-5) : "memory");
  ok &= old == 7 && word == 7;
  uint64_t loaded, failed;
  __asm__ volatile(
      "1: lr.d %0, (%2)\n"
      "   addi %0, %0, 1\n"
      "   sc.d %1, %0, (%2)\n"
      "   bnez %1, 1b"
      : "=&r"(loaded), "=&r"(failed)
      : "r"(&word)
      : "memory");
  ok &= word == 8 && failed == 0;
  expect("a-amo-lr-sc", (int)ok);
}

static uint64_t bits(double d) {
  uint64_t u;
  memcpy(&u, &d, sizeof u);
  return u;
}

static void check_fp(void) {
  expect("fp-enabled", (csr_read(sstatus) & SSTATUS_FS) != 0); /* start.S turned it on */
  volatile double a = 1.5, b = 2.25;
  double sum = a + b, quotient = a / b;
  double root;
  __asm__ volatile("fsqrt.d %0, %1" : "=f"(root) : "f"(2.0));
  expect("fp-add-div-sqrt", bits(sum) == 0x400e000000000000ULL && bits(quotient) == 0x3fe5555555555555ULL &&
                                bits(root) == 0x3ff6a09e667f3bcdULL);
  int64_t truncated;
  __asm__ volatile("fcvt.l.d %0, %1, rtz" : "=r"(truncated) : "f"(-3.75));
  expect("fp-convert", truncated == -3);
  uint64_t flags;
  double inf;
  __asm__ volatile("csrw fflags, zero\n fdiv.d %0, %2, %3\n frflags %1" : "=f"(inf), "=r"(flags) : "f"(1.0), "f"(0.0));
  expect("fp-divide-by-zero-flag", bits(inf) == 0x7ff0000000000000ULL && flags == 0x8 /* DZ */);
}

static void check_csr(void) {
  csr_write(sscratch, 0x1234567890abcdefULL);
  uint64_t old;
  __asm__ volatile("csrrw %0, sscratch, %1" : "=r"(old) : "r"(42ULL));
  expect("csr-sscratch", old == 0x1234567890abcdefULL && csr_read(sscratch) == 42);
  csr_set(sstatus, SSTATUS_SUM);
  int set = (csr_read(sstatus) & SSTATUS_SUM) != 0;
  csr_clear(sstatus, SSTATUS_SUM);
  expect("csr-sstatus-bits", set && (csr_read(sstatus) & SSTATUS_SUM) == 0);
}

static void check_exceptions(void) {
  expecting = 1;
  __asm__ volatile(".option push\n.option norvc\nebreak\n.option pop" ::: "memory");
  expect("exception-breakpoint", !expecting && last_cause == EXC_BREAKPOINT);
  expecting = 1;
  /* csrrw to the read-only cycle CSR: an illegal instruction (priv spec 2.1). */
  __asm__ volatile(".option push\n.option norvc\ncsrw cycle, zero\n.option pop" ::: "memory");
  expect("exception-illegal-instruction", !expecting && last_cause == EXC_ILLEGAL_INST);
}

static void check_timer(void) {
  timer_ticks = 0;
  uint64_t start = rdtime();
  sbi_set_timer(start + 1000);
  csr_set(sie, SIE_STIE);
  csr_set(sstatus, SSTATUS_SIE);
  for (int spins = 0; timer_ticks == 0 && spins < 1000; spins++) __asm__ volatile("wfi");
  csr_clear(sstatus, SSTATUS_SIE);
  csr_clear(sie, SIE_STIE);
  expect("timer-interrupt", timer_ticks == 1 && rdtime() - start >= 1000);
}

/* Sv39: identity gigapages for devices and RAM, an alias of RAM at 4 GiB, nothing at 8 GiB. */
static uint64_t root[512] __attribute__((aligned(4096)));
static volatile uint64_t probe_word;

static void check_paging(void) {
  const uint64_t rwx = PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D;
  root[0] = PA_TO_PTE(0x00000000ULL) | PTE_V | PTE_R | PTE_W | PTE_A | PTE_D;
  root[2] = PA_TO_PTE(0x80000000ULL) | rwx;
  root[3] = PA_TO_PTE(0xc0000000ULL) | rwx;
  root[4] = PA_TO_PTE(0x80000000ULL) | PTE_V | PTE_R | PTE_W | PTE_A | PTE_D;
  __asm__ volatile("sfence.vma zero, zero" ::: "memory");
  csr_write(satp, SATP_SV39(root));
  __asm__ volatile("sfence.vma zero, zero" ::: "memory");
  volatile uint64_t *alias = (volatile uint64_t *)((uintptr_t)&probe_word - 0x80000000ULL + 0x100000000ULL);
  probe_word = 0x5a5a;
  int alias_ok = *alias == 0x5a5a;
  *alias = 0xa5a5;
  alias_ok &= probe_word == 0xa5a5;
  expect("paging-sv39-alias", alias_ok);
  expecting = 1;
  uint64_t v = 0;
  __asm__ volatile(".option push\n.option norvc\nld %0, 0(%1)\n.option pop" : "+r"(v) : "r"(0x200000000ULL) : "memory");
  expect("paging-page-fault", !expecting && last_cause == EXC_LOAD_PAGE_FAULT && last_tval == 0x200000000ULL);
  csr_write(satp, 0);
  __asm__ volatile("sfence.vma zero, zero" ::: "memory");
}

static void check_counters(void) {
  uint64_t t0 = rdtime(), c0 = rdcycle(), i0 = rdinstret();
  for (int i = 0; i < 100; i++) __asm__ volatile("nop");
  uint64_t t1 = rdtime(), c1 = rdcycle(), i1 = rdinstret();
  expect("counters", i1 - i0 >= 100 && c1 > c0 && t1 >= t0);
}

int bare_main(uint64_t hartid, const void *dtb) {
  (void)hartid;
  (void)dtb;
  csr_write(stvec, (uint64_t)(uintptr_t)bare_trap_vector);
  check_sbi();
  check_m();
  check_a();
  check_fp();
  check_csr();
  check_exceptions();
  check_timer();
  check_paging();
  check_counters();
  bare_printf("CHECK bare tests=%d failed=%d %s\n", tests, failures, failures ? "FAIL" : "ok");
  return failures != 0;
}
