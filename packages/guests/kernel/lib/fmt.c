/* The formatter behind printk, the user library's printf and the bare-metal programs. */
#include <fmt.h>

static int emit_number(fmt_sink sink, void *ctx, uint64_t v, int negative, unsigned base, int upper, int width,
                       char pad) {
  char digits[24];
  const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  int n = 0;
  do {
    digits[n++] = set[v % base];
    v /= base;
  } while (v != 0);
  int len = n + (negative ? 1 : 0);
  int out = 0;
  if (negative && pad == '0') {
    sink(ctx, '-');
    out++;
  }
  for (; len < width; len++, out++) sink(ctx, pad);
  if (negative && pad != '0') {
    sink(ctx, '-');
    out++;
  }
  while (n > 0) {
    sink(ctx, digits[--n]);
    out++;
  }
  return out;
}

int fmt_vformat(fmt_sink sink, void *ctx, const char *fmt, va_list ap) {
  int out = 0;
  for (const char *p = fmt; *p != '\0'; p++) {
    if (*p != '%') {
      sink(ctx, *p);
      out++;
      continue;
    }
    p++;
    char pad = ' ';
    if (*p == '0') {
      pad = '0';
      p++;
    }
    int width = 0;
    while (*p >= '0' && *p <= '9') width = width * 10 + (*p++ - '0');
    int longs = 0;
    while (*p == 'l' || *p == 'z') {
      longs++;
      p++;
    }
    switch (*p) {
      case 'd':
      case 'i': {
        /* va_arg must name the promoted type the caller passed (C11 7.16.1.1). */
        int64_t v = longs >= 2 ? va_arg(ap, long long) : longs ? va_arg(ap, long) : va_arg(ap, int);
        /* Negate in unsigned arithmetic: -INT64_MIN is not representable. */
        uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        out += emit_number(sink, ctx, mag, v < 0, 10, 0, width, pad);
        break;
      }
      case 'u':
      case 'x':
      case 'X': {
        uint64_t v = longs >= 2 ? va_arg(ap, unsigned long long) : longs ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
        out += emit_number(sink, ctx, v, 0, *p == 'u' ? 10 : 16, *p == 'X', width, pad);
        break;
      }
      case 'p':
        sink(ctx, '0');
        sink(ctx, 'x');
        out += 2 + emit_number(sink, ctx, (uint64_t)(uintptr_t)va_arg(ap, void *), 0, 16, 0, width, pad);
        break;
      case 's': {
        const char *s = va_arg(ap, const char *);
        if (s == NULL) s = "(null)";
        int len = 0;
        while (s[len] != '\0') len++;
        for (; len < width; width--, out++) sink(ctx, ' ');
        for (; *s != '\0'; s++, out++) sink(ctx, *s);
        break;
      }
      case 'c':
        sink(ctx, (char)va_arg(ap, int));
        out++;
        break;
      case '%':
        sink(ctx, '%');
        out++;
        break;
      case '\0':
        return out; /* a lone '%' at the end */
      default:
        sink(ctx, '%');
        sink(ctx, *p);
        out += 2;
        break;
    }
  }
  return out;
}

struct buffer {
  char *buf;
  size_t size;
  size_t len;
};

static void buffer_sink(void *ctx, char c) {
  struct buffer *b = ctx;
  if (b->len + 1 < b->size) b->buf[b->len] = c;
  b->len++;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...) {
  struct buffer b = {buf, size, 0};
  va_list ap;
  va_start(ap, fmt);
  int n = fmt_vformat(buffer_sink, &b, fmt, ap);
  va_end(ap);
  if (size > 0) buf[b.len < size ? b.len : size - 1] = '\0';
  return n;
}
