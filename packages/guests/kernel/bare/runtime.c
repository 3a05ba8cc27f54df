/* The bare-metal runtime: console output through SBI and power-off through SRST. */
#include "bare.h"

static int console_mode; /* 0 unknown, 1 DBCN, 2 legacy putchar */

static void sbi_sink(void *ctx, char c) {
  (void)ctx;
  if (console_mode == 0) console_mode = sbi_probe(SBI_EXT_DBCN) ? 1 : 2;
  if (console_mode == 1) sbi_call(SBI_EXT_DBCN, 2, (unsigned char)c, 0, 0); /* console_write_byte */
  else sbi_legacy_putchar(c);
}

int bare_printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = fmt_vformat(sbi_sink, 0, fmt, ap);
  va_end(ap);
  return n;
}

void bare_exit(int status) {
  bare_printf("DONE status=%d\n", status ? 1 : 0);
  sbi_shutdown(status != 0);
  bare_printf("bare: SBI system reset failed\n");
  for (;;) __asm__ volatile("wfi");
}
