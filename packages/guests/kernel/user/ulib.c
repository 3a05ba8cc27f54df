/* The user library's out-of-line parts: printf, MEASURE lines and CRC-32. */
#include "ulib.h"

#define LINE_MAX 256

struct line {
  char buf[LINE_MAX];
  size_t len;
};

static void flush(struct line *l) {
  if (l->len > 0) write(FD_STDOUT, l->buf, l->len);
  l->len = 0;
}

static void line_sink(void *ctx, char c) {
  struct line *l = ctx;
  l->buf[l->len++] = c;
  if (c == '\n' || l->len == LINE_MAX) flush(l);
}

int printf(const char *fmt, ...) {
  struct line l;
  l.len = 0;
  va_list ap;
  va_start(ap, fmt);
  int n = fmt_vformat(line_sink, &l, fmt, ap);
  va_end(ap);
  flush(&l);
  return n;
}

uint64_t timebase_hz;

/* The user counters: the kernel sets scounteren so U-mode may read them. */
struct counters counters_now(void) {
  struct counters c;
  c.ticks = rdtime();
  c.cycles = rdcycle();
  c.instret = rdinstret();
  return c;
}

void measure(const char *name, const char *extra, long n, struct counters a, struct counters b) {
  uint64_t i = ratio_tenths(b.instret - a.instret, (uint64_t)n);
  uint64_t c = ratio_tenths(b.cycles - a.cycles, (uint64_t)n);
  uint64_t ticks = b.ticks - a.ticks;
  uint64_t ns = ticks / timebase_hz * 1000000000 + ticks % timebase_hz * 1000000000 / timebase_hz;
  uint64_t t = ratio_tenths(ns, (uint64_t)n);
  printf("MEASURE %s n=%ld%s%s instret_per_op=%lu.%lu cycles_per_op=%lu.%lu ns_per_op=%lu.%lu\n", name, n,
         extra ? " " : "", extra ? extra : "", i / 10, i % 10, c / 10, c % 10, t / 10, t % 10);
}

uint32_t crc32_update(uint32_t crc, const void *data, size_t n) {
  static uint32_t table[256];
  static int ready;
  if (!ready) {
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      table[i] = c;
    }
    ready = 1;
  }
  const uint8_t *p = data;
  crc = ~crc;
  for (size_t i = 0; i < n; i++) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}
