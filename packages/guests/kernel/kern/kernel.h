/* hvkit-kernel: declarations shared by the kernel's source files. */
#ifndef HVKIT_KERNEL_H
#define HVKIT_KERNEL_H

#include <abi.h>
#include <fmt.h>
#include <riscv.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arch.h"
#include "asm-offsets.h"

#define NPROC 64              /* process slots */
#define NFD 8                 /* open files per process */
#define KSTACK_SIZE 8192      /* per-process kernel stack, trapframe at its top */
#define BOOTARGS_MAX 512      /* /chosen/bootargs kept from the devicetree */
#define MAX_RESERVED 16       /* reserved memory regions kept from the devicetree */
#define MAX_VIRTIO 8          /* virtio-mmio nodes kept from the devicetree */
#define DEFAULT_QUANTUM_US 10000 /* timer slice before preemption: 10 ms of guest time */

/* ---- console output (printk.c) ---- */
void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* The line "DONE status=<0|1> ..." and power off; never returns. */
void finish(int failed) __attribute__((noreturn));

/* ---- what the devicetree says (fdt.c) ---- */
struct bootinfo {
  uint64_t hartid;
  uint64_t dtb_start, dtb_end;
  uint64_t ram_base, ram_size;
  uint64_t timebase;      /* /cpus/timebase-frequency, Hz */
  int have_sstc;          /* the hart has Sstc (stimecmp) per riscv,isa or riscv,isa-extensions */
  uint64_t uart_base;     /* the ns16550a UART (stdout-path), 0 if none */
  uint32_t uart_irq;      /* its PLIC source */
  uint64_t plic_base;     /* the PLIC, 0 if none */
  uint32_t plic_context;  /* the PLIC context of this hart's S-mode external interrupt, or PLIC_NO_CONTEXT */
  uint64_t syscon_base;   /* sifive,test0 (power-off fallback), 0 if none */
  /* "virtio,mmio" transports in devicetree order (the device behind each is probed by its driver). */
  struct {
    uint64_t base, size;
    uint32_t irq;
  } virtio[MAX_VIRTIO];
  int nvirtio;
  uint64_t pio_blk_base;  /* the "hvkit,pio-blk" programmed-I/O block controller, 0 if none */
  uint64_t initrd_start, initrd_end;
  /* Regions the kernel must not allocate: memreserve entries, /reserved-memory children. */
  struct {
    uint64_t start, end;
  } reserved[MAX_RESERVED];
  int nreserved;
  char bootargs[BOOTARGS_MAX];
};
extern struct bootinfo boot;
#define PLIC_NO_CONTEXT 0xffffffffU
void fdt_parse(const void *dtb, struct bootinfo *bi);

/* ---- physical pages (mem.c) ---- */
void mem_init(uint64_t start, uint64_t end);
void *page_alloc(void); /* a zeroed page with one reference, or NULL */
void page_ref(void *page);
void page_put(void *page); /* drop a reference; the page is freed at zero */
unsigned page_refs(void *page);
uint64_t mem_free_pages(void);

/* ---- address spaces (vm.c) ---- */
typedef uint64_t pte_t;
struct proc;
extern pte_t *kernel_root;
void kvm_init(void);
/* A kernel-only page (and its PTE) the ptemod benchmark remaps. */
extern const uint64_t kvm_scratch_va;
pte_t *kvm_scratch_pte(void);
pte_t *uvm_create(void);
void uvm_free(pte_t *root, uint64_t heap_peak);
int uvm_map(pte_t *root, uint64_t va, void *page, uint64_t perm);
int uvm_fork(pte_t *from, pte_t *to, uint64_t heap_end);
void uvm_unmap(pte_t *root, uint64_t start, uint64_t end);
int uvm_fault(struct proc *p, uint64_t va, int write);
int copyin(struct proc *p, void *dst, uint64_t src, uint64_t n);
int copyout(struct proc *p, uint64_t dst, const void *src, uint64_t n);

/* ---- processes (proc.c) ---- */
struct context {
  uint64_t ra, sp, s[12];
};
struct trapframe {
  uint64_t x[32]; /* x[0] unused */
  uint64_t sepc, sstatus, scause, stval;
};
_Static_assert(sizeof(struct trapframe) == TF_SIZE, "trapframe layout (asm-offsets.h)");
_Static_assert(offsetof(struct trapframe, sepc) == TF_SEPC, "trapframe layout (asm-offsets.h)");

enum procstate { P_UNUSED, P_RUNNABLE, P_RUNNING, P_SLEEPING, P_ZOMBIE };

struct file;
struct proc {
  enum procstate state;
  int pid;
  int exit_status;
  int killed;
  struct proc *parent;
  void *chan;              /* what a sleeping process waits for */
  pte_t *root;             /* Sv39 root table */
  uint64_t heap_base, brk; /* heap [heap_base, brk): pages appear on first touch */
  uint64_t heap_peak;      /* the highest brk so far: no user page table lies above it below the stack */
  struct trapframe *tf;    /* at the top of kstack */
  struct context ctx;
  struct file *ofile[NFD];
  uint64_t breakpoints, zero_faults, cow_faults; /* pstat() */
  uint8_t *kstack;
};
extern struct proc *current;
void proc_init(void);
int proc_spawn(int workload, long n);
/* Run processes until none is left; returns the exit status of the last spawned one. */
int scheduler_run(void);
void yield(void);
void sleep_on(void *chan);
void wakeup(void *chan);
int proc_fork(void);
void proc_exit(int status) __attribute__((noreturn));
int proc_wait(uint64_t status_uaddr);
int proc_kill(int pid);
/* Processes asleep on console input (they can only be woken by an interrupt). */
extern int console_waiters;

/* ---- traps (trap.c, entry.S) ---- */
void trap_vector(void);
void trap_exit(struct trapframe *tf) __attribute__((noreturn));
void trap_handler(struct trapframe *tf);
void swtch(struct context *old, struct context *new);
/* Timer slice in time-CSR ticks. */
extern uint64_t quantum_ticks;
/* The boot argument pvbatch=0|1 (default 1): the paravirtual build batches PTE writes (unused natively). */
extern int pv_batch;
extern void *pv_frames_page;
extern uint64_t boot_time;

/* ---- system calls (syscall.c) ---- */
void syscall(struct trapframe *tf);

/* ---- files: the console and pipes (file.c) ---- */
struct file *console_file(void);
void file_dup(struct file *f);
void file_close(struct file *f);
long file_read(struct file *f, uint64_t ubuf, uint64_t n);
long file_write(struct file *f, uint64_t ubuf, uint64_t n);
int pipe_create(struct file **rd, struct file **wr);
/* A byte received on the console (from the UART interrupt). */
void console_input(uint8_t c);

/* ---- devices (uart.c, plic.c) ---- */
void uart_init(uint64_t base);
void uart_putc(char c);
void uart_enable_rx_irq(void);
uint8_t uart_lsr(void);
void uart_intr(void);
int uart_getc(void); /* a received byte, or -1 */
void plic_init(uint64_t base, uint32_t context);
void plic_enable(uint32_t irq);
uint32_t plic_claim(void);
void plic_complete(uint32_t irq);

/* ---- block devices (blk.c) ---- */
struct blkdev {
  const char *name;
  uint64_t sectors;
  int (*read)(struct blkdev *dev, uint64_t sector, void *buf);
  int (*write)(struct blkdev *dev, uint64_t sector, const void *buf);
  void *priv;
};
/* The block device: a virtio-blk device when the devicetree has one, else a pio-blk controller, else the RAM disk. */
void blk_init(uint64_t ramdisk_sectors);
/* The first virtio-mmio transport with a usable virtio-blk device behind it, initialised; NULL if none. */
struct blkdev *virtio_blk_probe(void);
/* The "hvkit,pio-blk" controller from the devicetree, initialised; NULL if none. */
struct blkdev *pio_blk_probe(void);
struct blkdev *blk_device(void);
/* Pages the RAM disk holds (memory that is in use on purpose, for the leak check). */
uint64_t blk_pages_in_use(void);

/* ---- kernel-mode nanobenchmarks (kbench.c) ---- */
int kbench_mmio_read(long n);
int kbench_csr_write(long n);
int kbench_call_ret(long n);
int kbench_ptemod(long n);
/* Print a MEASURE line for n operations that took the given counter deltas. */
void measure(const char *name, const char *extra, long n, uint64_t instret, uint64_t cycles, uint64_t ticks);
uint64_t ticks_to_us(uint64_t ticks);

/* The C entry point (entry.S calls it with a0 = hart id, a1 = devicetree). */
void kmain(uint64_t hartid, const void *dtb) __attribute__((noreturn));

/* The embedded user program (user.S). */
extern const uint8_t user_elf[];
extern const uint8_t user_elf_end[];

/* Linker-script symbols. */
extern char __kernel_start[], __text_end[], __rodata_end[], __kernel_end[];

#endif
