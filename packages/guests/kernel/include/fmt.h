/*
 * A small printf-style formatter shared by the kernel, the user programs and
 * the bare-metal programs. Conversions: %d %i %u %x %X %s %c %p %%, with an
 * optional '0' flag, a field width, and the length modifiers l, ll and z.
 */
#ifndef HVKIT_FMT_H
#define HVKIT_FMT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Where formatted characters go. */
typedef void (*fmt_sink)(void *ctx, char c);

/* Format into `sink`; returns the number of characters produced. */
int fmt_vformat(fmt_sink sink, void *ctx, const char *fmt, va_list ap);

/* Format into buf (always NUL-terminated when size > 0); returns the untruncated length. */
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * num/den in tenths, rounded to nearest (print as "%lu.%lu", t / 10, t % 10):
 * the per-operation figures of MEASURE lines without floating point.
 */
static inline uint64_t ratio_tenths(uint64_t num, uint64_t den) {
  if (den == 0) return 0;
  /* num * 10 cannot overflow for any count a run can reach (< 2^60). */
  return (num * 10 + den / 2) / den;
}

#endif
