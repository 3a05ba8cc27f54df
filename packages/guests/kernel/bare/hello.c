/* hello: the smallest guest — a line through the SBI console, then power off. */
#include "bare.h"

void bare_trap(struct bare_frame *frame) {
  bare_printf("hello: unexpected trap, scause %lu at 0x%lx\n", frame->scause, frame->sepc);
  bare_exit(1);
}

int bare_main(uint64_t hartid, const void *dtb) {
  (void)dtb;
  csr_write(stvec, (uint64_t)(uintptr_t)bare_trap_vector); /* a trap is a clear failure, not a hang */
  bare_printf("Hello from hvkit: bare-metal S-mode on hart %lu, through the SBI console\n", hartid);
  return 0;
}
