/*
 * Processes: creation from the embedded user program, fork, exit, wait,
 * kill, sleep/wakeup and a round-robin scheduler.
 *
 * One hart, and the kernel is not preemptible: interrupts are enabled only
 * in U-mode and in the idle loop, so kernel code runs to completion or to an
 * explicit sleep_on()/yield(), and needs no locks. The scheduler runs on the
 * boot stack (sched_ctx); each process has its own kernel stack with its
 * trapframe at the top.
 */
#include "kernel.h"

#define STACK_CANARY 0x68766b69745f6b73ULL /* "hvkit_ks": checked at every switch back */

struct proc *current;
int console_waiters;
static struct proc procs[NPROC];
static uint8_t kstacks[NPROC][KSTACK_SIZE] __attribute__((aligned(16)));
static struct context sched_ctx;
static int next_pid = 1;
static int nprocs;
static int spawned_pid;     /* the process scheduler_run() reports on */
static int spawned_status;
static pte_t *active_root;  /* what satp points at, to skip needless switches */

void proc_init(void) {
  for (int i = 0; i < NPROC; i++) procs[i].kstack = kstacks[i];
  active_root = kernel_root;
}

/* The first return to U-mode of a new process (its context's ra). */
static void fork_return(void) { trap_exit(current->tf); }

static struct proc *proc_alloc(void) {
  for (int i = 0; i < NPROC; i++) {
    struct proc *p = &procs[i];
    if (p->state != P_UNUSED) continue;
    uint8_t *kstack = p->kstack;
    memset(p, 0, sizeof *p);
    p->kstack = kstack;
    p->pid = next_pid++;
    p->heap_peak = USER_TOP; /* until the layout is known, any table may exist */
    *(uint64_t *)kstack = STACK_CANARY;
    p->tf = (struct trapframe *)(kstack + KSTACK_SIZE - sizeof(struct trapframe));
    p->ctx.ra = (uint64_t)(uintptr_t)fork_return;
    p->ctx.sp = (uint64_t)(uintptr_t)p->tf;
    p->state = P_SLEEPING; /* not runnable until set up */
    nprocs++;
    return p;
  }
  return NULL;
}

static void proc_free(struct proc *p) {
  if (p->root != NULL) uvm_free(p->root, p->heap_peak);
  p->root = NULL;
  p->state = P_UNUSED;
  nprocs--;
}

/* ---- loading the user program (ELF64, RISC-V, ET_EXEC) ---- */

struct elf64_ehdr {
  uint8_t ident[16];
  uint16_t type, machine;
  uint32_t version;
  uint64_t entry, phoff, shoff;
  uint32_t flags;
  uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct elf64_phdr {
  uint32_t type, flags;
  uint64_t offset, vaddr, paddr, filesz, memsz, align;
};
#define PT_LOAD 1
#define PF_X 1
#define PF_W 2
#define PF_R 4
#define EM_RISCV 243

/* Map the program's PT_LOAD segments into p; returns the entry point, 0 on a malformed image. */
static uint64_t load_program(struct proc *p, const uint8_t *elf, uint64_t size) {
  const struct elf64_ehdr *eh = (const struct elf64_ehdr *)elf;
  if (size < sizeof *eh || memcmp(eh->ident, "\177ELF\2\1", 6) != 0 || eh->type != 2 || eh->machine != EM_RISCV ||
      eh->phentsize != sizeof(struct elf64_phdr) || eh->phoff > size ||
      (size - eh->phoff) / sizeof(struct elf64_phdr) < eh->phnum)
    return 0;
  const struct elf64_phdr *ph = (const struct elf64_phdr *)(elf + eh->phoff);
  uint64_t end = USER_BASE;
  for (int i = 0; i < eh->phnum; i++) {
    if (ph[i].type != PT_LOAD || ph[i].memsz == 0) continue;
    uint64_t va = ph[i].vaddr;
    if (va < USER_BASE || ph[i].memsz > USER_TOP - USTACK_SIZE - va || ph[i].filesz > ph[i].memsz ||
        ph[i].offset > size || ph[i].filesz > size - ph[i].offset)
      return 0;
    uint64_t perm = ((ph[i].flags & PF_R) ? PTE_R : 0) | ((ph[i].flags & PF_W) ? PTE_W : 0) |
                    ((ph[i].flags & PF_X) ? PTE_X : 0);
    for (uint64_t page_va = PAGE_ROUND_DOWN(va); page_va < va + ph[i].memsz; page_va += PAGE_SIZE) {
      uint8_t *page = page_alloc();
      if (page == NULL || uvm_map(p->root, page_va, page, perm) < 0) {
        if (page != NULL) page_put(page);
        return 0;
      }
      /* The part of the file image that falls in this page; the rest stays zero (bss). */
      uint64_t from = page_va < va ? va : page_va;
      uint64_t to = page_va + PAGE_SIZE;
      if (to > va + ph[i].filesz) to = va + ph[i].filesz;
      if (from < to) memcpy(page + (from - page_va), elf + ph[i].offset + (from - va), to - from);
    }
    if (va + ph[i].memsz > end) end = va + ph[i].memsz;
  }
  p->heap_base = p->brk = p->heap_peak = PAGE_ROUND_UP(end);
  return eh->entry;
}

int proc_spawn(int workload, long n) {
  struct proc *p = proc_alloc();
  if (p == NULL) return -1;
  p->root = uvm_create();
  uint64_t entry = p->root ? load_program(p, user_elf, (uint64_t)(user_elf_end - user_elf)) : 0;
  if (entry == 0) {
    printk("hvkit-kernel: cannot load the user program\n");
    proc_free(p);
    return -1;
  }
  for (int fd = 0; fd < 3; fd++) p->ofile[fd] = console_file();
  struct trapframe *tf = p->tf;
  memset(tf, 0, sizeof *tf);
  tf->sepc = entry;
  /* sret to U-mode with interrupts on; FS = Off: the kernel keeps no FP state, so FP use traps. */
  tf->sstatus = (csr_read(sstatus) & ~(SSTATUS_SPP | SSTATUS_SIE | SSTATUS_FS | SSTATUS_SUM)) | SSTATUS_SPIE;
  tf->x[2] = USER_TOP;
  tf->x[10] = (uint64_t)workload;
  tf->x[11] = (uint64_t)n;
  tf->x[12] = boot.timebase;
  p->state = P_RUNNABLE;
  spawned_pid = p->pid;
  spawned_status = -1;
  return p->pid;
}

/* ---- scheduling ---- */

static void switch_root(pte_t *root) {
  if (root == active_root) return;
  arch_set_pagetable(root);
  active_root = root;
}

int scheduler_run(void) {
  static int last;
  for (;;) {
    struct proc *p = NULL;
    for (int k = 1; k <= NPROC; k++) {
      int i = (last + k) % NPROC;
      if (procs[i].state == P_RUNNABLE) {
        p = &procs[i];
        last = i;
        break;
      }
    }
    if (p != NULL) {
      p->state = P_RUNNING;
      current = p;
      switch_root(p->root);
      arch_timer_set(arch_time() + quantum_ticks); /* a fresh slice */
      swtch(&sched_ctx, &p->ctx);
      current = NULL;
      if (*(uint64_t *)p->kstack != STACK_CANARY) panic("kernel stack overflow in pid %d", p->pid);
      continue;
    }
    if (nprocs == 0) {
      arch_timer_stop();
      return spawned_status;
    }
    if (console_waiters > 0) {
      /* Only input can wake anyone: stop the timer so the host sees a truly idle hart. */
      arch_timer_stop();
      arch_idle();
      continue;
    }
    panic("deadlock: %d processes and none can run", nprocs);
  }
}

static void sched(void) { swtch(&current->ctx, &sched_ctx); }

void yield(void) {
  current->state = P_RUNNABLE;
  sched();
}

void sleep_on(void *chan) {
  current->chan = chan;
  current->state = P_SLEEPING;
  sched();
  current->chan = NULL;
}

void wakeup(void *chan) {
  for (int i = 0; i < NPROC; i++) {
    if (procs[i].state == P_SLEEPING && procs[i].chan == chan) procs[i].state = P_RUNNABLE;
  }
}

/* ---- fork, exit, wait, kill ---- */

int proc_fork(void) {
  struct proc *np = proc_alloc();
  if (np == NULL) return -1;
  np->root = uvm_create();
  if (np->root == NULL || uvm_fork(current->root, np->root, current->brk) < 0) {
    proc_free(np);
    return -1;
  }
  np->heap_base = current->heap_base;
  np->brk = np->heap_peak = current->brk;
  *np->tf = *current->tf;
  np->tf->x[10] = 0; /* fork() returns 0 in the child */
  for (int fd = 0; fd < NFD; fd++) {
    if (current->ofile[fd] != NULL) {
      file_dup(current->ofile[fd]);
      np->ofile[fd] = current->ofile[fd];
    }
  }
  np->parent = current;
  np->state = P_RUNNABLE;
  return np->pid;
}

void proc_exit(int status) {
  struct proc *p = current;
  for (int fd = 0; fd < NFD; fd++) {
    if (p->ofile[fd] != NULL) file_close(p->ofile[fd]);
    p->ofile[fd] = NULL;
  }
  /* Orphans have no one to report to: they are freed when they exit (zombies now). */
  for (int i = 0; i < NPROC; i++) {
    if (procs[i].state != P_UNUSED && procs[i].parent == p) {
      procs[i].parent = NULL;
      if (procs[i].state == P_ZOMBIE) proc_free(&procs[i]);
    }
  }
  /* Leave the address space before freeing it; the kernel half is the same in every root. */
  switch_root(kernel_root);
  uvm_free(p->root, p->heap_peak);
  p->root = NULL;
  p->exit_status = status;
  if (p->pid == spawned_pid) spawned_status = status;
  if (p->parent != NULL) {
    p->state = P_ZOMBIE;
    wakeup(p->parent);
  } else {
    /* Still on this slot's kernel stack, but nothing can reuse the slot before sched() leaves it. */
    proc_free(p);
  }
  sched();
  panic("pid %d ran after exit", p->pid);
}

int proc_wait(uint64_t status_uaddr) {
  for (;;) {
    int children = 0;
    for (int i = 0; i < NPROC; i++) {
      struct proc *c = &procs[i];
      if (c->state == P_UNUSED || c->parent != current) continue;
      children++;
      if (c->state != P_ZOMBIE) continue;
      int pid = c->pid;
      int32_t status = c->exit_status;
      if (status_uaddr != 0 && copyout(current, status_uaddr, &status, sizeof status) < 0) return -1;
      proc_free(c);
      return pid;
    }
    if (children == 0 || current->killed) return -1;
    sleep_on(current);
  }
}

int proc_kill(int pid) {
  for (int i = 0; i < NPROC; i++) {
    struct proc *p = &procs[i];
    if (p->pid != pid || p->state == P_UNUSED || p->state == P_ZOMBIE) continue;
    p->killed = 1;
    if (p->state == P_SLEEPING) p->state = P_RUNNABLE; /* its sleep loop sees `killed` */
    return 0;
  }
  return -1;
}
