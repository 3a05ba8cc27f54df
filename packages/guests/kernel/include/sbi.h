/*
 * Supervisor Binary Interface calls (RISC-V SBI specification v2.0).
 * Calling convention (SBI spec 3): a7 = extension ID, a6 = function ID,
 * a0..a5 = arguments; the result is struct sbiret { error, value } in a0/a1.
 */
#ifndef HVKIT_SBI_H
#define HVKIT_SBI_H

#include <stdint.h>

#define SBI_EXT_BASE 0x10
#define SBI_EXT_TIME 0x54494D45
#define SBI_EXT_SRST 0x53525354
#define SBI_EXT_DBCN 0x4442434E
#define SBI_LEGACY_CONSOLE_PUTCHAR 0x01

#define SBI_BASE_GET_SPEC_VERSION 0
#define SBI_BASE_PROBE_EXTENSION 3
#define SBI_SRST_SHUTDOWN 0
#define SBI_SRST_REASON_NONE 0
#define SBI_SRST_REASON_FAILURE 1

#define SBI_SUCCESS 0
#define SBI_ERR_NOT_SUPPORTED (-2)

struct sbiret {
  long error;
  long value;
};

static inline struct sbiret sbi_call(unsigned long eid, unsigned long fid, unsigned long arg0, unsigned long arg1,
                                     unsigned long arg2) {
  register unsigned long a0 __asm__("a0") = arg0;
  register unsigned long a1 __asm__("a1") = arg1;
  register unsigned long a2 __asm__("a2") = arg2;
  register unsigned long a6 __asm__("a6") = fid;
  register unsigned long a7 __asm__("a7") = eid;
  __asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a2), "r"(a6), "r"(a7) : "memory");
  struct sbiret r = {(long)a0, (long)a1};
  return r;
}

/* sbi_probe_extension: nonzero when the firmware implements `eid`. */
static inline int sbi_probe(unsigned long eid) {
  struct sbiret r = sbi_call(SBI_EXT_BASE, SBI_BASE_PROBE_EXTENSION, eid, 0, 0);
  return r.error == SBI_SUCCESS && r.value != 0;
}

/* sbi_set_timer (TIME extension): the next timer interrupt at absolute time `when`. */
static inline void sbi_set_timer(uint64_t when) { sbi_call(SBI_EXT_TIME, 0, when, 0, 0); }

/* The legacy console putchar (SBI spec 5.2), present in every firmware we boot under. */
static inline void sbi_legacy_putchar(int c) { sbi_call(SBI_LEGACY_CONSOLE_PUTCHAR, 0, (unsigned long)c, 0, 0); }

/* System reset (SRST): shutdown with a reason; returns only on error. */
static inline struct sbiret sbi_shutdown(int failure) {
  return sbi_call(SBI_EXT_SRST, 0, SBI_SRST_SHUTDOWN, failure ? SBI_SRST_REASON_FAILURE : SBI_SRST_REASON_NONE, 0);
}

#endif
