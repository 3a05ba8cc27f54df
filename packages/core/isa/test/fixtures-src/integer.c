/*
 * Integer code for the disassembler fixtures: recursion, loops, 32- and
 * 64-bit arithmetic (M extension included), every load and store width,
 * shifts, comparisons, large constants, indirect calls and a switch that
 * compiles to a jump table.
 */
#include <stddef.h>
#include <stdint.h>

int64_t fib(int64_t n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

uint64_t gcd(uint64_t a, uint64_t b) {
  while (b != 0) {
    uint64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

uint32_t isqrt(uint64_t x) {
  uint64_t lo = 0, hi = x < 0xffffffffu ? x : 0xffffffffu;
  while (lo < hi) {
    uint64_t mid = (lo + hi + 1) / 2;
    if (mid * mid <= x) lo = mid;
    else hi = mid - 1;
  }
  return (uint32_t)lo;
}

uint32_t crc32(const uint8_t *p, size_t n) {
  uint32_t crc = 0xffffffffu;
  for (size_t i = 0; i < n; i++) {
    crc ^= p[i];
    for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
  }
  return ~crc;
}

void sort(int64_t *a, size_t n) {
  for (size_t i = 1; i < n; i++) {
    int64_t v = a[i];
    size_t j = i;
    while (j > 0 && a[j - 1] > v) {
      a[j] = a[j - 1];
      j--;
    }
    a[j] = v;
  }
}

long find(const int32_t *a, long n, int32_t key) {
  long lo = 0, hi = n - 1;
  while (lo <= hi) {
    long mid = lo + (hi - lo) / 2;
    if (a[mid] == key) return mid;
    if (a[mid] < key) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/* 32-bit operations on RV64 use the *w forms. */
int32_t arith32(int32_t a, int32_t b, uint32_t c, uint32_t d) {
  int32_t r = a * b;
  r += a / (b | 1);
  r -= a % (b | 1);
  r ^= (int32_t)(c / (d | 1));
  r |= (int32_t)(c % (d | 1));
  r += a << (b & 31);
  r += a >> (c & 31);
  r += (int32_t)(c >> (d & 31));
  r += (int32_t)(c << 7) + (a >> 3) + (int32_t)(c >> 5);
  return r;
}

int64_t arith64(int64_t a, int64_t b, uint64_t c, uint64_t d) {
  int64_t r = a * b;
  r += a / (b | 1);
  r -= a % (b | 1);
  r ^= (int64_t)(c / (d | 1));
  r |= (int64_t)(c % (d | 1));
  r += a << (b & 63);
  r += a >> (c & 63);
  r += (int64_t)(c >> (d & 63));
  r += (int64_t)(c << 40) + (a >> 50) + (int64_t)(c >> 33);
  r &= ~(int64_t)0xff00;
  return r;
}

/* High halves of 128-bit products: mulh, mulhu, mulhsu. */
int64_t mulh(int64_t a, int64_t b) { return (int64_t)(((__int128)a * b) >> 64); }
uint64_t mulhu(uint64_t a, uint64_t b) { return (uint64_t)(((unsigned __int128)a * b) >> 64); }
int64_t mulhsu(int64_t a, uint64_t b) { return (int64_t)(((__int128)a * (__int128)b) >> 64); }

int compare(int64_t a, int64_t b, uint64_t c, uint64_t d) {
  return (a < b) + 2 * (c < d) + 4 * (a == 0) + 8 * (c != 0) + 16 * (a > 0) + 32 * (a < 0) +
         64 * (a < 100) + 128 * (c < 100u);
}

uint64_t constants(int which) {
  switch (which) {
  case 0: return 0x123456789abcdef0ull;
  case 1: return 0xfffff800u;
  case 2: return 0x7ffff7ffu;
  case 3: return (uint64_t)-2049;
  case 4: return 0x80000000u;
  case 5: return 0xdeadbeefcafef00dull;
  case 6: return 42;
  default: return 0;
  }
}

struct widths {
  int8_t s8;
  uint8_t u8;
  int16_t s16;
  uint16_t u16;
  int32_t s32;
  uint32_t u32;
  int64_t s64;
};

int64_t loads(const volatile struct widths *w) { return w->s8 + w->u8 + w->s16 + w->u16 + w->s32 + w->u32 + w->s64; }

void stores(volatile struct widths *w, int64_t v) {
  w->s8 = (int8_t)v;
  w->u16 = (uint16_t)v;
  w->s32 = (int32_t)v;
  w->s64 = v;
}

typedef int64_t (*binop)(int64_t, int64_t);
static int64_t add(int64_t a, int64_t b) { return a + b; }
static int64_t sub(int64_t a, int64_t b) { return a - b; }
static int64_t mul(int64_t a, int64_t b) { return a * b; }
static const binop ops[] = {add, sub, mul};

int64_t apply(unsigned op, int64_t a, int64_t b) { return ops[op % 3](a, b); }

int day_kind(int day) {
  switch (day) {
  case 0: return 11;
  case 1: return 23;
  case 2: return 37;
  case 3: return 41;
  case 4: return 59;
  case 5: return 67;
  case 6: return 73;
  case 7: return 89;
  default: return -1;
  }
}

/* Shapes with no compressed form: rd differs from rs1, or no C encoding exists. */
int32_t sra32(int32_t a) { return a >> 7; }
int32_t sub32(int32_t a, int32_t b) { return b - a; }
int64_t sra64(int64_t a, int64_t b) { return b >> 9; }

/* Word-sized stack slots (c.swsp, c.lwsp). */
int32_t stack_words(int32_t a, int32_t b) {
  volatile int32_t slot[4];
  slot[0] = a;
  slot[1] = b;
  slot[2] = a ^ b;
  slot[3] = a + b;
  return slot[0] + slot[1] * slot[2] - slot[3];
}

int64_t sum_array(const int64_t *a, int n) {
  int64_t s = 0;
  for (int i = 0; i < n; i++) s += a[i];
  return s;
}

static int64_t numbers[16] = {5, 3, 9, 1, 7, 2, 8, 6, 4, 0, 15, 11, 13, 12, 14, 10};
static int32_t sorted[8] = {1, 3, 5, 7, 9, 11, 13, 15};
int64_t counter;

int64_t integer_main(void) {
  sort(numbers, 16);
  int64_t r = fib(10) + (int64_t)gcd(48, 18) + isqrt(1000000) + crc32((const uint8_t *)numbers, sizeof numbers);
  r += find(sorted, 8, 9) + arith32(7, 3, 100, 9) + arith64(-7, 3, 100, 9) + mulh(-1, 3) + (int64_t)mulhu(5, 7);
  r += mulhsu(-5, 7) + compare(1, 2, 3, 4) + (int64_t)constants(counter & 7) + apply(2, 6, 7) + day_kind(3);
  r += sum_array(numbers, 16) + sra32((int32_t)r) + sub32(3, (int32_t)r) + sra64(1, r) + stack_words(1, 2);
  counter += r;
  return r;
}
