/* The user library: system call wrappers, output, and helpers shared by the workloads. */
#ifndef HVKIT_ULIB_H
#define HVKIT_ULIB_H

#include <abi.h>
#include <fmt.h>
#include <riscv.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline long syscall3(long num, long a0, long a1, long a2) {
  register long r0 __asm__("a0") = a0;
  register long r1 __asm__("a1") = a1;
  register long r2 __asm__("a2") = a2;
  register long r7 __asm__("a7") = num;
  __asm__ volatile("ecall" : "+r"(r0) : "r"(r1), "r"(r2), "r"(r7) : "memory");
  return r0;
}

static inline void exit(int status) {
  syscall3(SYS_exit, status, 0, 0);
  __builtin_unreachable();
}
static inline int fork(void) { return (int)syscall3(SYS_fork, 0, 0, 0); }
static inline int wait(int *status) { return (int)syscall3(SYS_wait, (long)status, 0, 0); }
static inline int getpid(void) { return (int)syscall3(SYS_getpid, 0, 0, 0); }
static inline void *sbrk(long increment) { return (void *)syscall3(SYS_sbrk, increment, 0, 0); }
static inline int yield(void) { return (int)syscall3(SYS_yield, 0, 0, 0); }
static inline long uptime(void) { return syscall3(SYS_uptime, 0, 0, 0); }
static inline long write(int fd, const void *buf, size_t n) { return syscall3(SYS_write, fd, (long)buf, (long)n); }
static inline long read(int fd, void *buf, size_t n) { return syscall3(SYS_read, fd, (long)buf, (long)n); }
static inline int bread(uint64_t sector, void *buf) { return (int)syscall3(SYS_bread, (long)sector, (long)buf, 0); }
static inline int bwrite(uint64_t sector, const void *buf) {
  return (int)syscall3(SYS_bwrite, (long)sector, (long)buf, 0);
}
static inline long bcount(void) { return syscall3(SYS_bcount, 0, 0, 0); }
static inline int pipe(int fds[2]) { return (int)syscall3(SYS_pipe, (long)fds, 0, 0); }
static inline int close(int fd) { return (int)syscall3(SYS_close, fd, 0, 0); }
static inline int kill(int pid) { return (int)syscall3(SYS_kill, pid, 0, 0); }
static inline long pstat(int what) { return syscall3(SYS_pstat, what, 0, 0); }

/* sbrk's failure value. */
#define SBRK_FAILED ((void *)-1)

/* printf to stdout; output is buffered per line so that each line is one write(). */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The time base (Hz) of the time CSR, from the kernel at start. */
extern uint64_t timebase_hz;

/* Counters around a measured loop, and the MEASURE line (same format as the kernel's). */
struct counters {
  uint64_t instret, cycles, ticks;
};
struct counters counters_now(void);
void measure(const char *name, const char *extra, long n, struct counters a, struct counters b);

/* CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320): crc32_update(0, ...) starts a new one. */
uint32_t crc32_update(uint32_t crc, const void *data, size_t n);

/* A 32-bit linear congruential generator (Numerical Recipes constants): deterministic test data. */
static inline uint32_t lcg_next(uint32_t *state) {
  *state = *state * 1664525u + 1013904223u;
  return *state;
}

#endif
