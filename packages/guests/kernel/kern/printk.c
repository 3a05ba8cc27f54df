/* Kernel console output, panic, and the final DONE line. */
#include "kernel.h"

static void console_sink(void *ctx, char c) {
  (void)ctx;
  arch_console_putc(c);
}

void printk(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fmt_vformat(console_sink, NULL, fmt, ap);
  va_end(ap);
}

void finish(int failed) {
  printk("DONE status=%d\n", failed ? 1 : 0);
  arch_shutdown(failed);
}

/* A kernel bug or an impossible state: say what happened and power off reporting failure. */
void panic(const char *fmt, ...) {
  arch_irq_disable();
  printk("PANIC: ");
  va_list ap;
  va_start(ap, fmt);
  fmt_vformat(console_sink, NULL, fmt, ap);
  va_end(ap);
  printk("\n");
  finish(1);
}
