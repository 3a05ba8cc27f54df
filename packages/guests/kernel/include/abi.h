/*
 * The interface between hvkit-kernel and its user programs: system call
 * numbers, the user address-space layout, and the user-mode workloads.
 *
 * System calls: `ecall` from U-mode with the number in a7 and arguments in
 * a0..a5; the result comes back in a0. A negative result is an error (-1 for
 * every failure: bad argument, bad user pointer, no such process, no memory).
 */
#ifndef HVKIT_ABI_H
#define HVKIT_ABI_H

#define SYS_exit 1   /* exit(status): never returns */
#define SYS_fork 2   /* fork() -> child pid in the parent, 0 in the child */
#define SYS_wait 3   /* wait(int *status) -> pid of a child that exited; status may be 0 */
#define SYS_getpid 4 /* getpid() */
#define SYS_sbrk 5   /* sbrk(increment) -> the previous break; pages appear on first touch */
#define SYS_yield 6  /* yield(): let another runnable process run */
#define SYS_uptime 7 /* uptime() -> microseconds of guest time since boot */
#define SYS_write 8  /* write(fd, buf, n) -> bytes written */
#define SYS_read 9   /* read(fd, buf, n) -> bytes read, 0 at end of file */
#define SYS_bread 10  /* bread(sector, buf) -> 0: read one BLOCK_SIZE sector of the block device */
#define SYS_bwrite 11 /* bwrite(sector, buf) -> 0: write one sector */
#define SYS_bcount 12 /* bcount() -> number of sectors of the block device */
#define SYS_pipe 13   /* pipe(int fds[2]) -> 0; fds[0] reads, fds[1] writes */
#define SYS_close 14  /* close(fd) -> 0 */
#define SYS_kill 15   /* kill(pid) -> 0: the process exits with status -1 at its next trap */
#define SYS_pstat 16  /* pstat(what) -> a counter of the calling process (PSTAT_*) */

/* pstat() counters: architectural events, the same under every hypervisor strategy. */
#define PSTAT_BREAKPOINTS 1 /* ebreak traps the kernel delivered and resumed */
#define PSTAT_ZERO_FAULTS 2 /* page faults resolved with a fresh zeroed page */
#define PSTAT_COW_FAULTS 3  /* page faults resolved by breaking copy-on-write sharing */

/* The block device's sector size. */
#define BLOCK_SIZE 512

/*
 * User address space: slot 1 of the Sv39 root table, VA 0x4000_0000 up to
 * 0x8000_0000. Slots 0, 2 and 3 hold the kernel's own mappings (devices and
 * RAM), without PTE_U. The program is linked at USER_BASE, the heap follows
 * it, and the stack grows down from USER_TOP within USTACK_SIZE.
 */
#define USER_BASE 0x40000000UL
#define USER_TOP 0x80000000UL
#define USTACK_SIZE (256UL * 1024)

/* File descriptors every process starts with (all the console). */
#define FD_STDIN 0
#define FD_STDOUT 1
#define FD_STDERR 2

/*
 * Workloads that run in user mode: the kernel starts the user program with
 * a0 = one of these, a1 = n (the size) and a2 = the time base in Hz (for
 * converting the time CSR the program reads itself).
 */
#define UW_SYSCALL 1
#define UW_PGFAULT 2
#define UW_TRAP 3
#define UW_FORKWAIT 4
#define UW_COMPUTE 5
#define UW_CTXSWITCH 6
#define UW_IO 7
#define UW_SELFTEST 8
#define UW_ECHO 9

#endif
