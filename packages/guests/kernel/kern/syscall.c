/* System call dispatch: the numbers and their contracts are in include/abi.h. */
#include "kernel.h"

static struct file *fd_file(uint64_t fd) { return fd < NFD ? current->ofile[fd] : NULL; }

static long sys_sbrk(int64_t increment) {
  uint64_t old = current->brk;
  uint64_t limit = USER_TOP - USTACK_SIZE;
  if (increment > 0 && (uint64_t)increment > limit - old) return -1;
  if (increment < 0 && (uint64_t)0 - (uint64_t)increment > old - current->heap_base) return -1;
  uint64_t brk = old + (uint64_t)increment;
  if (brk < old) uvm_unmap(current->root, brk, old); /* whole pages above the new break go */
  current->brk = brk;
  if (brk > current->heap_peak) current->heap_peak = brk;
  return (long)old;
}

static long sys_block(uint64_t sector, uint64_t ubuf, int write) {
  struct blkdev *dev = blk_device();
  uint8_t buf[BLOCK_SIZE] __attribute__((aligned(8)));
  if (dev == NULL || sector >= dev->sectors) return -1;
  if (write) {
    if (copyin(current, buf, ubuf, BLOCK_SIZE) < 0) return -1;
    return dev->write(dev, sector, buf) < 0 ? -1 : 0;
  }
  if (dev->read(dev, sector, buf) < 0) return -1;
  return copyout(current, ubuf, buf, BLOCK_SIZE) < 0 ? -1 : 0;
}

static long sys_pipe(uint64_t ufds) {
  int fds[2] = {-1, -1};
  for (int fd = 0, k = 0; fd < NFD && k < 2; fd++) {
    if (current->ofile[fd] == NULL) fds[k++] = fd;
  }
  if (fds[1] < 0) return -1;
  struct file *rd, *wr;
  if (pipe_create(&rd, &wr) < 0) return -1;
  int32_t out[2] = {fds[0], fds[1]};
  if (copyout(current, ufds, out, sizeof out) < 0) {
    file_close(rd);
    file_close(wr);
    return -1;
  }
  current->ofile[fds[0]] = rd;
  current->ofile[fds[1]] = wr;
  return 0;
}

static long sys_close(uint64_t fd) {
  struct file *f = fd_file(fd);
  if (f == NULL) return -1;
  current->ofile[fd] = NULL;
  file_close(f);
  return 0;
}

static long sys_pstat(uint64_t what) {
  switch (what) {
    case PSTAT_BREAKPOINTS: return (long)current->breakpoints;
    case PSTAT_ZERO_FAULTS: return (long)current->zero_faults;
    case PSTAT_COW_FAULTS: return (long)current->cow_faults;
    default: return -1;
  }
}

void syscall(struct trapframe *tf) {
  uint64_t a0 = tf->x[10], a1 = tf->x[11], a2 = tf->x[12];
  long r;
  switch (tf->x[17]) {
    case SYS_exit: proc_exit((int)a0);
    case SYS_fork: r = proc_fork(); break;
    case SYS_wait: r = proc_wait(a0); break;
    case SYS_getpid: r = current->pid; break;
    case SYS_sbrk: r = sys_sbrk((int64_t)a0); break;
    case SYS_yield:
      yield();
      r = 0;
      break;
    case SYS_uptime: r = (long)ticks_to_us(arch_time() - boot_time); break;
    case SYS_write: {
      struct file *f = fd_file(a0);
      r = f ? file_write(f, a1, a2) : -1;
      break;
    }
    case SYS_read: {
      struct file *f = fd_file(a0);
      r = f ? file_read(f, a1, a2) : -1;
      break;
    }
    case SYS_bread: r = sys_block(a0, a1, 0); break;
    case SYS_bwrite: r = sys_block(a0, a1, 1); break;
    case SYS_bcount: r = blk_device() ? (long)blk_device()->sectors : -1; break;
    case SYS_pipe: r = sys_pipe(a0); break;
    case SYS_close: r = sys_close(a0); break;
    case SYS_kill: r = proc_kill((int)a0); break;
    case SYS_pstat: r = sys_pstat(a0); break;
    default: r = -1; break;
  }
  tf->x[10] = (uint64_t)r;
}
