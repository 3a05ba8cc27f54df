/*
 * memset/memcpy and friends. The compiler may emit calls to memset, memcpy
 * and memmove for aggregate copies even in freestanding code, so they exist
 * under their standard names. Aligned runs go a doubleword at a time: page
 * copies (copy-on-write, fork) and page clears are hot in the kernel.
 */
#include <stdint.h>
#include <string.h>

void *memset(void *dst, int c, size_t n) {
  unsigned char *d = dst;
  unsigned char b = (unsigned char)c;
  for (; n > 0 && (((uintptr_t)d) & 7) != 0; n--) *d++ = b;
  uint64_t w = b * 0x0101010101010101ULL;
  for (; n >= 8; n -= 8, d += 8) *(uint64_t *)d = w;
  for (; n > 0; n--) *d++ = b;
  return dst;
}

void *memcpy(void *dst, const void *src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  if (((((uintptr_t)d) ^ ((uintptr_t)s)) & 7) == 0) {
    /* Same alignment: bytes up to a doubleword boundary, then doublewords. */
    for (; n > 0 && (((uintptr_t)d) & 7) != 0; n--) *d++ = *s++;
    for (; n >= 8; n -= 8, d += 8, s += 8) *(uint64_t *)d = *(const uint64_t *)s;
  }
  for (; n > 0; n--) *d++ = *s++;
  return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  if (d == s || n == 0) return dst;
  if ((uintptr_t)d < (uintptr_t)s || (uintptr_t)d >= (uintptr_t)s + n) return memcpy(dst, src, n);
  while (n > 0) {
    n--;
    d[n] = s[n];
  }
  return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
  const unsigned char *x = a;
  const unsigned char *y = b;
  for (size_t i = 0; i < n; i++) {
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return 0;
}

size_t strlen(const char *s) {
  size_t n = 0;
  while (s[n] != '\0') n++;
  return n;
}

size_t strnlen(const char *s, size_t max) {
  size_t n = 0;
  while (n < max && s[n] != '\0') n++;
  return n;
}

int strcmp(const char *a, const char *b) {
  while (*a != '\0' && *a == *b) {
    a++;
    b++;
  }
  return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n) {
  for (; n > 0; n--, a++, b++) {
    if (*a != *b || *a == '\0') return (unsigned char)*a - (unsigned char)*b;
  }
  return 0;
}
