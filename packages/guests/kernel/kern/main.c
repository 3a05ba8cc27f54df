/*
 * hvkit-kernel: boot, and the workload runner.
 *
 * Workloads are chosen on the kernel command line (/chosen/bootargs):
 *
 *   workload=NAME[,NAME...]   what to run, in order (default: selftest);
 *                             groups: nano, macro, all (all but echo)
 *   n=N                       the size of every selected workload
 *   NAME.n=N                  the size of one workload (wins over n=)
 *   quantum=US                the preemption time slice in microseconds (default 10000)
 *   disk=SECTORS              RAM disk size in 512-byte sectors (default 8192)
 *   pvbatch=0|1               paravirtual build: batch PTE writes (1, default) or one hypercall each
 *
 * Other words (console=..., earlycon, ...) are ignored. Each workload prints
 * CHECK lines (results that must be identical under every hypervisor
 * strategy) and MEASURE lines (counters per operation, which are not); the
 * run ends with "DONE status=0" (or 1 if anything failed) and an SBI system
 * reset with the matching reason.
 */
#include "kernel.h"

#define DEFAULT_DISK_SECTORS 8192
#define MAX_SELECTED 32

struct bootinfo boot;

struct workload {
  const char *name;
  int user;                /* UW_* for a user-mode workload, 0 for a kernel one */
  int (*run)(long n);      /* kernel workloads: nonzero on failure */
  long default_n;
  int in_all;
};

static const struct workload workloads[] = {
    {"selftest", UW_SELFTEST, NULL, 1, 1},
    /* The nanobenchmarks, in the order of Adams & Agesen's figure 4. */
    {"syscall", UW_SYSCALL, NULL, 10000, 1},
    {"mmio-read", 0, kbench_mmio_read, 10000, 1},
    {"csr-write", 0, kbench_csr_write, 10000, 1},
    {"call-ret", 0, kbench_call_ret, 100000, 1},
    {"pgfault", UW_PGFAULT, NULL, 2048, 1},
    {"trap", UW_TRAP, NULL, 10000, 1},
    {"ptemod", 0, kbench_ptemod, 10000, 1},
    /* Macro workloads. */
    {"forkwait", UW_FORKWAIT, NULL, 40000, 1},
    {"compute", UW_COMPUTE, NULL, 10, 1},
    {"ctxswitch", UW_CTXSWITCH, NULL, 10000, 1},
    {"io", UW_IO, NULL, 2048, 1},
    /* Reads a line of console input: only when asked for by name. */
    {"echo", UW_ECHO, NULL, 1, 0},
};
#define NWORKLOADS (sizeof workloads / sizeof workloads[0])

static const char *const nano_group[] = {"syscall", "mmio-read", "csr-write", "call-ret", "pgfault", "trap", "ptemod"};
static const char *const macro_group[] = {"forkwait", "compute", "ctxswitch", "io"};

static struct {
  const struct workload *w;
  long n;
} selected[MAX_SELECTED];
static int nselected;
static long sizes[NWORKLOADS]; /* from NAME.n=, 0 if not given */

/* ---- the command line ---- */

static int parse_number(const char *s, size_t len, long *out) {
  long v = 0;
  if (len == 0 || len > 12) return -1;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 0;
}

static const struct workload *find_workload(const char *name, size_t len) {
  for (size_t i = 0; i < NWORKLOADS; i++) {
    if (strlen(workloads[i].name) == len && strncmp(workloads[i].name, name, len) == 0) return &workloads[i];
  }
  return NULL;
}

static int select_name(const char *name, size_t len) {
  if (nselected == MAX_SELECTED) {
    printk("hvkit-kernel: more than %d workloads selected\n", MAX_SELECTED);
    return -1;
  }
  const struct workload *w = find_workload(name, len);
  if (w == NULL) {
    printk("hvkit-kernel: unknown workload \"");
    for (size_t i = 0; i < len; i++) printk("%c", name[i]);
    printk("\"\n");
    return -1;
  }
  selected[nselected].w = w;
  selected[nselected].n = 0;
  nselected++;
  return 0;
}

static int select_group(const char *const *names, size_t count) {
  for (size_t i = 0; i < count; i++) {
    if (select_name(names[i], strlen(names[i])) < 0) return -1;
  }
  return 0;
}

/* One comma-separated list of workload and group names. */
static int select_list(const char *s, size_t len) {
  size_t start = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i < len && s[i] != ',') continue;
    const char *name = s + start;
    size_t n = i - start;
    int rc;
    if (n == 3 && strncmp(name, "all", 3) == 0) {
      rc = 0;
      for (size_t k = 0; k < NWORKLOADS && rc == 0; k++) {
        if (workloads[k].in_all) rc = select_name(workloads[k].name, strlen(workloads[k].name));
      }
    } else if (n == 4 && strncmp(name, "nano", 4) == 0) {
      rc = select_group(nano_group, sizeof nano_group / sizeof nano_group[0]);
    } else if (n == 5 && strncmp(name, "macro", 5) == 0) {
      rc = select_group(macro_group, sizeof macro_group / sizeof macro_group[0]);
    } else {
      rc = select_name(name, n);
    }
    if (rc < 0) return -1;
    start = i + 1;
  }
  return 0;
}

/* Parse bootargs; returns -1 (after saying why) on a bad workload= or size. */
static int parse_bootargs(const char *args, long *n_all, long *quantum_us, long *disk) {
  const char *p = args;
  int have_workload = 0;
  while (*p != '\0') {
    while (*p == ' ') p++;
    const char *word = p;
    while (*p != '\0' && *p != ' ') p++;
    size_t len = (size_t)(p - word);
    if (len == 0) continue;
    const char *eq = word;
    while (eq < p && *eq != '=') eq++;
    if (eq == p) continue; /* a flag, not ours */
    size_t klen = (size_t)(eq - word);
    const char *val = eq + 1;
    size_t vlen = (size_t)(p - val);
    long num = 0;
    if (klen == 8 && strncmp(word, "workload", 8) == 0) {
      if (select_list(val, vlen) < 0) return -1;
      have_workload = 1;
      continue;
    }
    int is_size = klen == 1 && word[0] == 'n';
    const struct workload *w = NULL;
    if (klen > 2 && strncmp(eq - 2, ".n", 2) == 0) {
      w = find_workload(word, klen - 2);
      if (w == NULL) {
        printk("hvkit-kernel: unknown workload in \"");
        for (size_t i = 0; i < len; i++) printk("%c", word[i]);
        printk("\"\n");
        return -1;
      }
      is_size = 1;
    }
    int is_quantum = klen == 7 && strncmp(word, "quantum", 7) == 0;
    int is_disk = klen == 4 && strncmp(word, "disk", 4) == 0;
    int is_pvbatch = klen == 7 && strncmp(word, "pvbatch", 7) == 0;
    if (!is_size && !is_quantum && !is_disk && !is_pvbatch) continue;
    if (parse_number(val, vlen, &num) < 0 || (num == 0 && !is_disk && !is_pvbatch) || (is_pvbatch && num > 1)) {
      printk("hvkit-kernel: bad number in \"");
      for (size_t i = 0; i < len; i++) printk("%c", word[i]);
      printk("\"\n");
      return -1;
    }
    if (w != NULL) sizes[w - workloads] = num;
    else if (is_size) *n_all = num;
    else if (is_quantum) *quantum_us = num;
    else if (is_pvbatch) pv_batch = (int)num;
    else *disk = num;
  }
  if (!have_workload) {
    printk("hvkit-kernel: no workload= in bootargs: running selftest (workload=all runs everything)\n");
    if (select_name("selftest", 8) < 0) return -1;
  }
  for (int i = 0; i < nselected; i++) {
    long specific = sizes[selected[i].w - workloads];
    selected[i].n = specific ? specific : *n_all ? *n_all : selected[i].w->default_n;
  }
  return 0;
}

/* ---- boot ---- */

/* The free RAM: from the end of the kernel to the first thing in the way (reserved, devicetree, initrd). */
static void find_free_memory(uint64_t *start, uint64_t *end) {
  uint64_t lo = (uint64_t)(uintptr_t)__kernel_end;
  uint64_t hi = boot.ram_base + boot.ram_size;
  struct {
    uint64_t start, end;
  } avoid[MAX_RESERVED + 2];
  int n = 0;
  for (int i = 0; i < boot.nreserved; i++) {
    avoid[n].start = boot.reserved[i].start;
    avoid[n].end = boot.reserved[i].end;
    n++;
  }
  avoid[n].start = boot.dtb_start;
  avoid[n++].end = boot.dtb_end;
  if (boot.initrd_end > boot.initrd_start) {
    avoid[n].start = boot.initrd_start;
    avoid[n++].end = boot.initrd_end;
  }
  /* Shrink [lo, hi) until no region overlaps it: a region at the bottom moves lo up, others cut hi. */
  for (int changed = 1; changed;) {
    changed = 0;
    for (int i = 0; i < n; i++) {
      if (avoid[i].end <= lo || avoid[i].start >= hi) continue;
      if (avoid[i].start <= lo) lo = avoid[i].end;
      else hi = avoid[i].start;
      changed = 1;
    }
  }
  *start = lo;
  *end = hi;
}

static int run_workload(const struct workload *w, long n) {
  printk("hvkit-kernel: workload %s n=%ld\n", w->name, n);
  uint64_t free_before = mem_free_pages() + blk_pages_in_use();
  int failed;
  if (w->run != NULL) {
    failed = w->run(n);
  } else {
    if (proc_spawn(w->user, n) < 0) {
      printk("CHECK %s n=%ld spawn=failed FAIL\n", w->name, n);
      return 1;
    }
    int status = scheduler_run();
    failed = status != 0;
    if (failed) printk("hvkit-kernel: workload %s exited with status %d\n", w->name, status);
  }
  uint64_t free_after = mem_free_pages() + blk_pages_in_use();
  if (free_after != free_before) {
    printk("hvkit-kernel: workload %s leaked %ld pages\n", w->name, (long)(free_before - free_after));
    failed = 1;
  }
  return failed;
}

void kmain(uint64_t hartid, const void *dtb) {
  boot.hartid = hartid;
  fdt_parse(dtb, &boot);
  uart_init(boot.uart_base);
  arch_init(trap_vector, boot.have_sstc);

  uint64_t free_start, free_end;
  find_free_memory(&free_start, &free_end);
  mem_init(free_start, free_end);
  kvm_init();
  proc_init();
  if (boot.plic_base != 0 && boot.plic_context != PLIC_NO_CONTEXT) {
    plic_init(boot.plic_base, boot.plic_context);
    if (boot.uart_base != 0 && boot.uart_irq != 0) {
      plic_enable(boot.uart_irq);
      uart_enable_rx_irq();
    }
  }
  arch_set_irq_mask(SIE_STIE | SIE_SEIE | SIE_SSIE);

  printk("hvkit-kernel 1.0 (%s build): hart %lu, %lu MiB RAM at 0x%lx, timebase %lu Hz, sstc=%s\n", arch_build,
         boot.hartid, boot.ram_size >> 20, boot.ram_base, boot.timebase, boot.have_sstc ? "yes" : "no");
  printk("hvkit-kernel: bootargs \"%s\"\n", boot.bootargs);

  long n_all = 0, quantum_us = DEFAULT_QUANTUM_US, disk = DEFAULT_DISK_SECTORS;
  if (parse_bootargs(boot.bootargs, &n_all, &quantum_us, &disk) < 0) finish(1);
  if (quantum_us > 10000000) quantum_us = 10000000; /* 10 s: keeps the product below 2^63 */
  quantum_ticks = (uint64_t)quantum_us * boot.timebase / 1000000;
  if (quantum_ticks == 0) quantum_ticks = 1;
  blk_init((uint64_t)disk);
  boot_time = arch_time();

  int failed = 0;
  for (int i = 0; i < nselected; i++) failed += run_workload(selected[i].w, selected[i].n);
  finish(failed);
}
