/* The bare-metal programs' runtime: SBI console output, power-off, and the trap frame. */
#ifndef HVKIT_BARE_H
#define HVKIT_BARE_H

#include <fmt.h>
#include <riscv.h>
#include <sbi.h>
#include <stdint.h>

/* What bare_trap_vector saves (start.S): registers, then sepc, scause, stval. */
struct bare_frame {
  uint64_t regs[30];
  uint64_t sepc, scause, stval;
  uint64_t pad;
};

/* printf to the SBI console (DBCN when the firmware has it, else the legacy putchar). */
int bare_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "DONE status=..." and SBI system reset: status 0 powers off cleanly, anything else reports failure. */
void bare_exit(int status) __attribute__((noreturn));
/* Entry point, called by start.S; its result goes to bare_exit. */
int bare_main(uint64_t hartid, const void *dtb);
/* Called by bare_trap_vector for every trap. */
void bare_trap(struct bare_frame *frame);
void bare_trap_vector(void);

#endif
