/*
 * The user-mode workloads of hvkit-kernel. Every workload prints CHECK lines
 * (deterministic results: the same bytes under every hypervisor strategy)
 * and MEASURE lines (counters per operation), and returns nonzero if a check
 * failed. The kernel starts this program with a0 = workload (UW_*), a1 = n,
 * a2 = the time base.
 */
#include "ulib.h"

#define WARMUP 16
#define PAGE 4096

static const char *verdict(int bad) { return bad ? "FAIL" : "ok"; }

/* Add the counter deltas b - a to *sum. */
static void accumulate(struct counters *sum, struct counters a, struct counters b) {
  sum->instret += b.instret - a.instret;
  sum->cycles += b.cycles - a.cycles;
  sum->ticks += b.ticks - a.ticks;
}

/* ---- syscall: a null system call (getpid) ---- */

static int w_syscall(long n) {
  int pid = getpid();
  int bad = 0;
  for (int i = 0; i < WARMUP; i++) bad |= getpid() != pid;
  struct counters a = counters_now();
  for (long i = 0; i < n; i++) bad |= getpid() != pid;
  struct counters b = counters_now();
  printf("CHECK syscall n=%ld getpid=%s %s\n", n, bad ? "inconsistent" : "consistent", verdict(bad));
  measure("syscall", "call=getpid", n, a, b);
  return bad;
}

/* ---- pgfault: user page faults the kernel resolves ---- */

#define PGFAULT_BATCH 64 /* pages mapped, touched and released per round */
#define COW_PAGES_MAX 256

/* Store to pages below the caller's frame, so the stack is private before a measurement starts. */
__attribute__((noinline)) static void prefault_stack(void) {
  volatile uint8_t pad[2 * PAGE];
  for (int i = 0; i < 2 * PAGE; i += 512) pad[i] = 0;
}

/* The child's half of the copy-on-write measurement: one store to each of k shared pages. */
__attribute__((noinline)) static int cow_child(volatile uint8_t *base, long k) {
  prefault_stack(); /* its own copy-on-write faults are not the ones measured */
  long before = pstat(PSTAT_COW_FAULTS);
  struct counters a = counters_now();
  for (long i = 0; i < k; i++) base[i * PAGE] = 2;
  struct counters b = counters_now();
  long cow = pstat(PSTAT_COW_FAULTS) - before;
  int bad = cow != k;
  for (long i = 0; i < k; i++) bad |= base[i * PAGE] != 2;
  printf("CHECK pgfault n=%ld kind=copy-on-write faults=%ld %s\n", k, cow, verdict(bad));
  measure("pgfault", "kind=copy-on-write", k, a, b);
  return bad;
}

static int w_pgfault(long n) {
  int bad = 0;
  struct counters zero = {0, 0, 0}, total = {0, 0, 0};
  long zero_before = pstat(PSTAT_ZERO_FAULTS);
  for (long done = 0; done < n && !bad;) {
    long k = n - done < PGFAULT_BATCH ? n - done : PGFAULT_BATCH;
    volatile uint8_t *base = sbrk(k * PAGE);
    if ((void *)base == SBRK_FAILED) {
      bad = 1;
      break;
    }
    /* One store per fresh page: each is a store page fault resolved with a zeroed page. */
    struct counters a = counters_now();
    for (long i = 0; i < k; i++) base[i * PAGE] = (uint8_t)(i + 1);
    struct counters b = counters_now();
    accumulate(&total, a, b);
    for (long i = 0; i < k; i++) {
      if (base[i * PAGE] != (uint8_t)(i + 1) || base[i * PAGE + PAGE - 1] != 0) bad = 1;
    }
    sbrk(-k * PAGE);
    done += k;
  }
  long zero_faults = pstat(PSTAT_ZERO_FAULTS) - zero_before;
  bad |= zero_faults != n;
  printf("CHECK pgfault n=%ld kind=demand-zero faults=%ld zeroed=%s %s\n", n, zero_faults, bad ? "no" : "yes",
         verdict(bad));
  measure("pgfault", "kind=demand-zero", n, zero, total);

  /* Copy-on-write: the parent fills pages, the child's first store to each copies it. */
  long k = n < COW_PAGES_MAX ? n : COW_PAGES_MAX;
  volatile uint8_t *base = sbrk(k * PAGE);
  if ((void *)base == SBRK_FAILED) return 1;
  for (long i = 0; i < k; i++) base[i * PAGE] = 1;
  int pid = fork();
  if (pid == 0) exit(cow_child(base, k));
  int status = -1;
  int cow_bad = pid < 0 || wait(&status) != pid || status != 0;
  for (long i = 0; i < k; i++) cow_bad |= base[i * PAGE] != 1; /* the parent's pages are untouched */
  printf("CHECK pgfault kind=copy-on-write parent-pages=%s %s\n", cow_bad ? "changed" : "intact", verdict(cow_bad));
  sbrk(-k * PAGE);
  return bad | cow_bad;
}

/* ---- trap: an exception delivered to the kernel and resumed (ebreak) ---- */

static inline void ebreak4(void) {
  /* The 4-byte encoding, whatever the assembler would compress. */
  __asm__ volatile(".option push\n.option norvc\nebreak\n.option pop" ::: "memory");
}

static int w_trap(long n) {
  long before = pstat(PSTAT_BREAKPOINTS);
  for (int i = 0; i < WARMUP; i++) ebreak4();
  struct counters a = counters_now();
  for (long i = 0; i < n; i++) ebreak4();
  struct counters b = counters_now();
  long delivered = pstat(PSTAT_BREAKPOINTS) - before - WARMUP;
  int bad = delivered != n;
  printf("CHECK trap n=%ld kind=ebreak delivered=%ld %s\n", n, delivered, verdict(bad));
  measure("trap", "kind=ebreak", n, a, b);
  return bad;
}

/* ---- forkwait: fork a child that exits at once, and wait for it ---- */

static int w_forkwait(long n) {
  int bad = 0;
  long status_sum = 0;
  struct counters a = counters_now();
  for (long i = 0; i < n; i++) {
    int pid = fork();
    if (pid == 0) exit((int)(i & 0x7f));
    if (pid < 0) {
      bad = 1;
      break;
    }
    int status = -1;
    if (wait(&status) != pid || status != (int)(i & 0x7f)) bad = 1;
    status_sum += status;
  }
  struct counters b = counters_now();
  printf("CHECK forkwait n=%ld status_sum=%ld %s\n", n, status_sum, verdict(bad));
  measure("forkwait", NULL, n, a, b);
  return bad;
}

/* ---- compute: integer sort, CRC-32 and matrix multiply ---- */

#define SORT_N 4096
#define CRC_BYTES 65536
#define MAT_N 32

static void heapsort_u32(uint32_t *a, long n) {
  /* Iterative heapsort: O(n log n) with no recursion and no extra memory. */
  for (long start = n / 2 - 1, end = n;; ) {
    long root;
    if (start >= 0) {
      root = start--;
    } else {
      if (--end == 0) break;
      uint32_t t = a[0];
      a[0] = a[end];
      a[end] = t;
      root = 0;
    }
    for (long child; (child = 2 * root + 1) < end; root = child) {
      if (child + 1 < end && a[child + 1] > a[child]) child++;
      if (a[root] >= a[child]) break;
      uint32_t t = a[root];
      a[root] = a[child];
      a[child] = t;
    }
  }
}

static int w_compute(long n) {
  uint8_t *mem = sbrk(SORT_N * 4 + CRC_BYTES + 3 * MAT_N * MAT_N * 4);
  if ((void *)mem == SBRK_FAILED) return 1;
  uint32_t *sortv = (uint32_t *)mem;
  uint8_t *crcbuf = mem + SORT_N * 4;
  uint32_t(*ma)[MAT_N] = (uint32_t(*)[MAT_N])(crcbuf + CRC_BYTES);
  uint32_t(*mb)[MAT_N] = ma + MAT_N;
  uint32_t(*mc)[MAT_N] = mb + MAT_N;

  int bad = crc32_update(0, "123456789", 9) != 0xCBF43926u; /* the CRC-32 check value */
  uint32_t sort_acc = 0, crc_acc = 0, mat_acc = 0;
  struct counters a = counters_now();
  for (long r = 0; r < n; r++) {
    uint32_t seed = (uint32_t)r + 1;
    uint64_t sum_before = 0, sum_after = 0;
    for (long i = 0; i < SORT_N; i++) sum_before += sortv[i] = lcg_next(&seed);
    heapsort_u32(sortv, SORT_N);
    for (long i = 0; i < SORT_N; i++) {
      sum_after += sortv[i];
      if (i > 0 && sortv[i - 1] > sortv[i]) bad = 1;
    }
    bad |= sum_before != sum_after;
    uint32_t sorted_crc = crc32_update(0, sortv, SORT_N * 4);

    for (long i = 0; i < CRC_BYTES; i++) crcbuf[i] = (uint8_t)(lcg_next(&seed) >> 24);
    uint32_t data_crc = crc32_update(0, crcbuf, CRC_BYTES);

    for (long i = 0; i < MAT_N; i++) {
      for (long j = 0; j < MAT_N; j++) {
        ma[i][j] = lcg_next(&seed);
        mb[i][j] = lcg_next(&seed);
      }
    }
    for (long i = 0; i < MAT_N; i++) {
      for (long j = 0; j < MAT_N; j++) {
        uint32_t s = 0;
        for (long k = 0; k < MAT_N; k++) s += ma[i][k] * mb[k][j];
        mc[i][j] = s;
      }
    }
    uint32_t mat_crc = crc32_update(0, mc, sizeof(uint32_t) * MAT_N * MAT_N);

    /* Chain the rounds: each accumulator is the CRC of (previous accumulator, this round's CRC). */
    uint32_t v[2] = {sort_acc, sorted_crc};
    sort_acc = crc32_update(0, v, sizeof v);
    v[0] = crc_acc, v[1] = data_crc;
    crc_acc = crc32_update(0, v, sizeof v);
    v[0] = mat_acc, v[1] = mat_crc;
    mat_acc = crc32_update(0, v, sizeof v);
  }
  struct counters b = counters_now();
  printf("CHECK compute n=%ld sort=%s sorted=0x%08x crc32=0x%08x matmul=0x%08x %s\n", n, bad ? "wrong" : "ok",
         sort_acc, crc_acc, mat_acc, verdict(bad));
  measure("compute", "op=round", n, a, b);
  sbrk(-(long)(SORT_N * 4 + CRC_BYTES + 3 * MAT_N * MAT_N * 4));
  return bad;
}

/* ---- ctxswitch: two processes pass a token back and forth through pipes ---- */

static int w_ctxswitch(long n) {
  int up[2], down[2];
  if (pipe(up) < 0 || pipe(down) < 0) {
    printf("CHECK ctxswitch n=%ld pipe=failed FAIL\n", n);
    return 1;
  }
  int pid = fork();
  if (pid == 0) {
    close(up[1]);
    close(down[0]);
    for (;;) {
      uint64_t token;
      long got = read(up[0], &token, sizeof token);
      if (got == 0) exit(0); /* the parent closed its end: done */
      if (got != sizeof token) exit(2);
      token++;
      if (write(down[1], &token, sizeof token) != sizeof token) exit(3);
    }
  }
  close(up[0]);
  close(down[1]);
  int bad = pid < 0;
  uint64_t token = 0;
  struct counters a = counters_now();
  for (long i = 0; i < n && !bad; i++) {
    if (write(up[1], &token, sizeof token) != sizeof token) bad = 1;
    uint64_t back = 0;
    if (read(down[0], &back, sizeof back) != sizeof back || back != token + 1) bad = 1;
    token = back;
  }
  struct counters b = counters_now();
  close(up[1]);
  close(down[0]);
  int status = -1;
  bad |= wait(&status) != pid || status != 0 || token != (uint64_t)n;
  printf("CHECK ctxswitch n=%ld token=%lu %s\n", n, token, verdict(bad));
  measure("ctxswitch", "op=round-trip", n, a, b);
  return bad;
}

/* ---- io: write sectors, read them back and verify ---- */

static void fill_sector(uint8_t *buf, uint64_t sector) {
  uint32_t seed = (uint32_t)sector * 2654435761u + 12345u;
  for (int i = 0; i < BLOCK_SIZE; i += 4) {
    uint32_t v = lcg_next(&seed);
    buf[i] = (uint8_t)v;
    buf[i + 1] = (uint8_t)(v >> 8);
    buf[i + 2] = (uint8_t)(v >> 16);
    buf[i + 3] = (uint8_t)(v >> 24);
  }
}

static int w_io(long n) {
  long sectors = bcount();
  if (sectors < n) {
    printf("CHECK io n=%ld sectors=%ld too-small FAIL\n", n, sectors);
    return 1;
  }
  static uint8_t buf[BLOCK_SIZE] __attribute__((aligned(8))), expect[BLOCK_SIZE] __attribute__((aligned(8)));
  int bad = 0;
  uint32_t crc_written = 0, crc_read = 0;
  /* Only the system calls are measured: generating and checking the data is not I/O. */
  struct counters zero = {0, 0, 0}, writes = {0, 0, 0}, reads = {0, 0, 0};
  for (long s = 0; s < n; s++) {
    fill_sector(buf, (uint64_t)s);
    crc_written = crc32_update(crc_written, buf, BLOCK_SIZE);
    struct counters a = counters_now();
    if (bwrite((uint64_t)s, buf) < 0) bad = 1;
    accumulate(&writes, a, counters_now());
  }
  long mismatched = 0;
  for (long s = 0; s < n; s++) {
    struct counters a = counters_now();
    if (bread((uint64_t)s, buf) < 0) bad = 1;
    accumulate(&reads, a, counters_now());
    crc_read = crc32_update(crc_read, buf, BLOCK_SIZE);
    fill_sector(expect, (uint64_t)s);
    if (memcmp(buf, expect, BLOCK_SIZE) != 0) mismatched++;
  }
  bad |= mismatched != 0 || crc_read != crc_written;
  printf("CHECK io n=%ld bytes=%ld crc32=0x%08x mismatched=%ld %s\n", n, n * BLOCK_SIZE, crc_read, mismatched,
         verdict(bad));
  measure("io", "op=write-sector", n, zero, writes);
  measure("io", "op=read-sector", n, zero, reads);
  return bad;
}

/* ---- echo: one line of console input ---- */

static int w_echo(void) {
  char line[128];
  long got = read(FD_STDIN, line, sizeof line - 1);
  if (got < 0) {
    printf("CHECK echo read=failed FAIL\n");
    return 1;
  }
  line[got] = '\0';
  if (got > 0 && line[got - 1] == '\n') line[--got] = '\0';
  printf("CHECK echo bytes=%ld line=\"%s\" ok\n", got, line);
  return 0;
}

/* ---- selftest: the kernel's contracts, checked from user mode ---- */

extern char _start[];
static int tests, failures;

static void expect(const char *name, int ok) {
  tests++;
  failures += !ok;
  printf("CHECK selftest %s %s\n", name, verdict(!ok));
}

/* Run fn in a child; its exit status (or -1 when the kernel killed it). */
static int in_child(int (*fn)(void)) {
  int pid = fork();
  if (pid == 0) exit(fn());
  int status = -99;
  if (pid < 0 || wait(&status) != pid) return -99;
  return status;
}

static int child_null_store(void) {
  *(volatile int *)0 = 1;
  return 0;
}

static int child_privileged(void) {
  uint64_t v;
  __asm__ volatile("csrr %0, sstatus" : "=r"(v)); /* privileged: illegal instruction in U-mode */
  return (int)v;
}

static int child_stack_overflow(void) {
  /* Stores below the stack region: the kernel does not grow the stack past USTACK_SIZE. */
  volatile uint8_t *below = (volatile uint8_t *)(USER_TOP - USTACK_SIZE - PAGE);
  *below = 1;
  return 0;
}

__attribute__((noinline)) static uint64_t deep_stack(int depth) {
  volatile uint8_t frame[1024];
  frame[0] = (uint8_t)depth;
  frame[1023] = (uint8_t)depth;
  if (depth == 0) return frame[0];
  return deep_stack(depth - 1) + frame[1023];
}

static int child_spin(void) {
  /* Long enough to span many time slices; with no system calls only the timer can preempt it. */
  for (long i = 0; i < 5000000; i++) __asm__ volatile("");
  return 7;
}

static int child_orphan_maker(void) {
  /* Exits before its own child: the kernel frees the orphan when it exits. */
  if (fork() == 0) {
    for (int i = 0; i < 3; i++) yield();
    exit(0);
  }
  return 5;
}

static int shared_value = 1;
static int child_cow(void) {
  shared_value = 2;
  return shared_value + 40;
}

static int w_selftest(void) {
  expect("getpid", getpid() > 0);

  /* System calls refuse pointers the process may not use. */
  expect("write-null", write(FD_STDOUT, (void *)0, 1) == -1);
  expect("write-kernel-memory", write(FD_STDOUT, (void *)0x80200000UL, 4) == -1);
  expect("write-unmapped", write(FD_STDOUT, (void *)(USER_TOP - USTACK_SIZE - PAGE), 1) == -1);
  expect("write-bad-fd", write(7, "x", 1) == -1 && write(1000, "x", 1) == -1 && write(-1, "x", 1) == -1);
  int p[2];
  int piped = pipe(p) == 0;
  expect("pipe", piped);
  if (piped) {
    expect("pipe-write", write(p[1], "xy", 2) == 2);
    expect("read-into-text", read(p[0], _start, 1) == -1);
    char c = 0;
    expect("pipe-read", read(p[0], &c, 1) == 1 && c == 'x');
    close(p[1]);
    expect("pipe-read-rest", read(p[0], &c, 1) == 1 && c == 'y');
    expect("pipe-eof", read(p[0], &c, 1) == 0);
    close(p[0]);
  }
  expect("wait-no-children", wait(NULL) == -1);

  /* The heap: sbrk, demand-zero pages, release and reuse. */
  uint8_t *h = sbrk(2 * PAGE);
  int heap_ok = (void *)h != SBRK_FAILED && h[0] == 0 && h[2 * PAGE - 1] == 0;
  if (heap_ok) {
    h[0] = 0xaa;
    h[2 * PAGE - 1] = 0x55;
    heap_ok = h[0] == 0xaa && h[2 * PAGE - 1] == 0x55;
    sbrk(-2 * PAGE);
    uint8_t *again = sbrk(2 * PAGE);
    heap_ok = heap_ok && again == h && again[0] == 0 && again[2 * PAGE - 1] == 0;
    sbrk(-2 * PAGE);
  }
  expect("sbrk-demand-zero", heap_ok);
  expect("sbrk-too-much", sbrk(1L << 40) == SBRK_FAILED && sbrk(-(1L << 40)) == SBRK_FAILED);
  expect("stack-64k", deep_stack(60) == 60 * 60 / 2 + 30);

  /* Processes: copy-on-write isolation, exit status, faults that kill. */
  expect("fork-cow-exit-status", in_child(child_cow) == 42 && shared_value == 1);
  expect("kill-on-null-store", in_child(child_null_store) == -1);
  expect("kill-on-privileged-instruction", in_child(child_privileged) == -1);
  expect("kill-on-stack-overflow", in_child(child_stack_overflow) == -1);
  expect("orphan", in_child(child_orphan_maker) == 5);
  int sum = 0, reaped = 0;
  for (int i = 0; i < 8; i++) {
    if (fork() == 0) exit(i + 1);
  }
  for (int status; wait(&status) > 0; reaped++) sum += status;
  expect("eight-children", reaped == 8 && sum == 36);

  /* Preemption: a spinning child is interrupted by the timer, so our kill lands while it spins. */
  int sync[2];
  int spin_ok = 0;
  if (pipe(sync) == 0) {
    int pid = fork();
    if (pid == 0) {
      close(sync[0]);
      write(sync[1], "s", 1);
      exit(child_spin());
    }
    close(sync[1]);
    char c;
    int status = 0;
    spin_ok = pid > 0 && read(sync[0], &c, 1) == 1 && kill(pid) == 0 && wait(&status) == pid && status == -1;
    close(sync[0]);
  }
  expect("preempt-and-kill", spin_ok);
  expect("kill-no-such-process", kill(100000) == -1);

  /* Traps resumed by the kernel: both ebreak encodings. */
  long bp = pstat(PSTAT_BREAKPOINTS);
  ebreak4();
  __asm__ volatile(".2byte 0x9002" ::: "memory"); /* c.ebreak */
  expect("ebreak-resume", pstat(PSTAT_BREAKPOINTS) - bp == 2);

  /* The block device. */
  static uint8_t blk[BLOCK_SIZE], back[BLOCK_SIZE];
  long sectors = bcount();
  int blk_ok = sectors > 0 && bread((uint64_t)sectors, blk) == -1 && bwrite((uint64_t)sectors, blk) == -1;
  if (blk_ok) {
    for (int i = 0; i < BLOCK_SIZE; i++) blk[i] = (uint8_t)(i * 7);
    blk_ok = bwrite((uint64_t)sectors - 1, blk) == 0 && bread((uint64_t)sectors - 1, back) == 0 &&
             memcmp(blk, back, BLOCK_SIZE) == 0 && bread(0, (void *)0x80200000UL) == -1;
  }
  expect("block-device", blk_ok);

  long t0 = uptime();
  for (int i = 0; i < 1000; i++) __asm__ volatile("");
  expect("uptime", uptime() > t0);

  printf("CHECK selftest tests=%d failed=%d %s\n", tests, failures, verdict(failures != 0));
  return failures != 0;
}

long umain(long workload, long n, uint64_t timebase) {
  timebase_hz = timebase;
  switch (workload) {
    case UW_SYSCALL: return w_syscall(n);
    case UW_PGFAULT: return w_pgfault(n);
    case UW_TRAP: return w_trap(n);
    case UW_FORKWAIT: return w_forkwait(n);
    case UW_COMPUTE: return w_compute(n);
    case UW_CTXSWITCH: return w_ctxswitch(n);
    case UW_IO: return w_io(n);
    case UW_SELFTEST: return w_selftest();
    case UW_ECHO: return w_echo();
    default:
      printf("CHECK user workload=%ld unknown FAIL\n", workload);
      return 1;
  }
}
