/*
 * Reference vectors for hvkit's FPU, computed by the host's IEEE 754 hardware (x86-64
 * SSE/FMA) in the four IEEE directed/nearest modes, with flags from fetestexcept.
 * Build and run with ./gen.sh. Output: one text file per operation in the directory
 * given as argv[1]; each line is
 *
 *   <operands in hex> <result rne> <flags rne> <result rtz> <flags rtz> <result rdn> <flags rdn> <result rup> <flags rup>
 *
 * with flags as RISC-V fflags (NV 16, DZ 8, OF 4, UF 2, NX 1) in two hex digits, and
 * "=" for a result equal to the RNE column's.
 * x86-64 detects tininess after rounding, as RISC-V does. Where x86 and RISC-V differ
 * the RISC-V rule is applied here: NaN results are written as the canonical NaN, an
 * fma of inf*0 raises NV whatever the addend, and conversions to integers saturate
 * (NaN to the largest positive value) with NV only.
 *
 * Deterministic: a fixed-seed splitmix64 drives every random choice.
 */
#include <fenv.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma STDC FENV_ACCESS ON

static const int MODES[4] = {FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD};

/* ---------- random numbers ---------- */

static uint64_t rng_state = 0x68766b6974667075ull;

static uint64_t rnd(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static int rndn(int n) { return (int)(rnd() % (uint64_t)n); }

/* ---------- bit conversions ---------- */

static double d_of(uint64_t b) {
  double d;
  memcpy(&d, &b, 8);
  return d;
}
static uint64_t b_of_d(double d) {
  uint64_t b;
  memcpy(&b, &d, 8);
  return b;
}
static float f_of(uint32_t b) {
  float f;
  memcpy(&f, &b, 4);
  return f;
}
static uint32_t b_of_f(float f) {
  uint32_t b;
  memcpy(&b, &f, 4);
  return b;
}

static int flags_now(void) {
  int e = fetestexcept(FE_ALL_EXCEPT);
  return ((e & FE_INVALID) ? 16 : 0) | ((e & FE_DIVBYZERO) ? 8 : 0) | ((e & FE_OVERFLOW) ? 4 : 0) |
         ((e & FE_UNDERFLOW) ? 2 : 0) | ((e & FE_INEXACT) ? 1 : 0);
}

static uint64_t canon_d(double r) { return isnan(r) ? 0x7ff8000000000000ull : b_of_d(r); }
static uint32_t canon_f(float r) { return isnan(r) ? 0x7fc00000u : b_of_f(r); }

/* ---------- the operations, opaque to the optimizer ---------- */

#define OPQ __attribute__((noinline, noipa))
OPQ static double d_add(double a, double b) { return a + b; }
OPQ static double d_sub(double a, double b) { return a - b; }
OPQ static double d_mul(double a, double b) { return a * b; }
OPQ static double d_div(double a, double b) { return a / b; }
OPQ static double d_sqrt(double a) { return __builtin_sqrt(a); }
OPQ static double d_fma(double a, double b, double c) { return __builtin_fma(a, b, c); }
OPQ static float f_add(float a, float b) { return a + b; }
OPQ static float f_sub(float a, float b) { return a - b; }
OPQ static float f_mul(float a, float b) { return a * b; }
OPQ static float f_div(float a, float b) { return a / b; }
OPQ static float f_sqrt(float a) { return __builtin_sqrtf(a); }
OPQ static float f_fma(float a, float b, float c) { return __builtin_fmaf(a, b, c); }
OPQ static float f_of_d(double a) { return (float)a; }
OPQ static long long d_rint64(double a) { return llrint(a); }
OPQ static double d_of_i64(int64_t a) { return (double)a; }
OPQ static float f_of_i64(int64_t a) { return (float)a; }
OPQ static double d_of_u64(uint64_t a) {
  /* (a >> 1) | (a & 1) keeps a sticky bit: rounding it then doubling is exact in every mode. */
  if ((int64_t)a >= 0) return (double)(int64_t)a;
  double h = (double)(int64_t)((a >> 1) | (a & 1));
  return h + h;
}
OPQ static float f_of_u64(uint64_t a) {
  if ((int64_t)a >= 0) return (float)(int64_t)a;
  float h = (float)(int64_t)((a >> 1) | (a & 1));
  return h + h;
}

/* ---------- value generators ---------- */

static const uint64_t D_SPECIAL[] = {
    0x0000000000000000ull, 0x8000000000000000ull, /* +-0 */
    0x0000000000000001ull, 0x8000000000000001ull, /* min subnormal */
    0x000fffffffffffffull, 0x800fffffffffffffull, /* max subnormal */
    0x0008000000000000ull,                        /* subnormal 2^-1023 */
    0x0010000000000000ull, 0x8010000000000000ull, /* min normal */
    0x0010000000000001ull,                        /* min normal + ulp */
    0x7fefffffffffffffull, 0xffefffffffffffffull, /* max */
    0x7fe0000000000000ull,                        /* 2^1023 */
    0x3ff0000000000000ull, 0xbff0000000000000ull, /* +-1 */
    0x3ff0000000000001ull, 0x3fefffffffffffffull, /* 1 + ulp, 1 - ulp/2 */
    0x4000000000000000ull, 0x3fe0000000000000ull, /* 2, 0.5 */
    0x4008000000000000ull,                        /* 3 */
    0x3ca0000000000000ull,                        /* 2^-53 */
    0x4340000000000000ull,                        /* 2^53 */
    0x7ff0000000000000ull, 0xfff0000000000000ull, /* +-inf */
    0x7ff8000000000000ull, 0xfff8000000000001ull, /* qNaN */
    0x7ff0000000000001ull, 0xfff4000000000000ull, /* sNaN */
};
#define N_D_SPECIAL (sizeof D_SPECIAL / sizeof D_SPECIAL[0])

static const uint32_t F_SPECIAL[] = {
    0x00000000u, 0x80000000u, 0x00000001u, 0x80000001u, 0x007fffffu, 0x807fffffu, 0x00400000u,
    0x00800000u, 0x80800000u, 0x00800001u, 0x7f7fffffu, 0xff7fffffu, 0x7f000000u, 0x3f800000u,
    0xbf800000u, 0x3f800001u, 0x3f7fffffu, 0x40000000u, 0x3f000000u, 0x40400000u, 0x33800000u,
    0x4b800000u, 0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00001u, 0x7f800001u, 0xffa00000u,
};
#define N_F_SPECIAL (sizeof F_SPECIAL / sizeof F_SPECIAL[0])

/* A significand of `bits` fraction bits in one of several shapes (TestFloat-style). */
static uint64_t rnd_frac(int bits) {
  uint64_t mask = (bits == 64) ? ~0ull : ((1ull << bits) - 1);
  switch (rndn(6)) {
    case 0: /* uniform */
      return rnd() & mask;
    case 1: { /* a run of ones */
      int lo = rndn(bits), hi = lo + rndn(bits - lo + 1);
      uint64_t m = 0;
      for (int i = lo; i < hi; i++) m |= 1ull << i;
      return m & mask;
    }
    case 2: /* few bits set */
      return ((1ull << rndn(bits)) | (rndn(2) ? 1ull << rndn(bits) : 0)) & mask;
    case 3: /* all ones but a few */
      return (mask ^ (1ull << rndn(bits))) & mask;
    case 4: /* short significand: products and quotients land on ties and exact values */
      return (rnd() & mask) & ~((1ull << (bits - 1 - rndn(bits < 30 ? bits : 30))) - 1);
    default:
      return 0;
  }
}

/* A double with biased exponent in [elo, ehi] and a random sign. */
static double rnd_d_exp(int elo, int ehi) {
  uint64_t e = (uint64_t)(elo + rndn(ehi - elo + 1));
  uint64_t b = ((rnd() & 1) << 63) | (e << 52) | rnd_frac(52);
  return d_of(b);
}

static double rnd_d(void) {
  switch (rndn(8)) {
    case 0:
      return d_of(D_SPECIAL[rndn(N_D_SPECIAL - 6)]); /* finite specials */
    case 1:
      return rnd_d_exp(0, 3); /* subnormal and just above */
    case 2:
      return rnd_d_exp(2043, 2046); /* near overflow */
    case 3:
      return rnd_d_exp(0, 2046);
    default:
      return rnd_d_exp(1023 - 40, 1023 + 40);
  }
}

static float rnd_f_exp(int elo, int ehi) {
  uint32_t e = (uint32_t)(elo + rndn(ehi - elo + 1));
  uint32_t b = (uint32_t)((rnd() & 1) << 31) | (e << 23) | (uint32_t)rnd_frac(23);
  return f_of(b);
}

static float rnd_f(void) {
  switch (rndn(8)) {
    case 0:
      return f_of(F_SPECIAL[rndn(N_F_SPECIAL - 6)]);
    case 1:
      return rnd_f_exp(0, 3);
    case 2:
      return rnd_f_exp(251, 254);
    case 3:
      return rnd_f_exp(0, 254);
    default:
      return rnd_f_exp(127 - 20, 127 + 20);
  }
}

/* Next value away from zero by k ulps (k may be negative). */
static double d_ulps(double x, int k) { return d_of(b_of_d(x) + (uint64_t)(int64_t)k); }
static float f_ulps(float x, int k) { return f_of(b_of_f(x) + (uint32_t)k); }

/* One result column: the value (digits wide), or "=" when it equals the RNE column's value. */
static uint64_t first_result;
static void put(FILE *o, int m, int digits, uint64_t r, int fl) {
  if (m == 0) first_result = r;
  if (m > 0 && r == first_result) fprintf(o, " = %02x", fl);
  else fprintf(o, " %0*llx %02x", digits, (unsigned long long)r, fl);
}

/* ---------- writers ---------- */

typedef double (*d2)(double, double);
typedef float (*f2)(float, float);

static void emit_d2(FILE *o, d2 op, double a, double b) {
  fprintf(o, "%016llx %016llx", (unsigned long long)b_of_d(a), (unsigned long long)b_of_d(b));
  for (int m = 0; m < 4; m++) {
    fesetround(MODES[m]);
    feclearexcept(FE_ALL_EXCEPT);
    double r = op(a, b);
    int fl = flags_now();
    put(o, m, 16, canon_d(r), fl);
  }
  fesetround(FE_TONEAREST);
  fputc('\n', o);
}

static void emit_f2(FILE *o, f2 op, float a, float b) {
  fprintf(o, "%08x %08x", b_of_f(a), b_of_f(b));
  for (int m = 0; m < 4; m++) {
    fesetround(MODES[m]);
    feclearexcept(FE_ALL_EXCEPT);
    float r = op(a, b);
    int fl = flags_now();
    put(o, m, 8, canon_f(r), fl);
  }
  fesetround(FE_TONEAREST);
  fputc('\n', o);
}

/* variant: 0 fmadd, 1 fmsub, 2 fnmsub, 3 fnmadd */
static void emit_dfma(FILE *o, int variant, double a, double b, double c) {
  fprintf(o, "%016llx %016llx %016llx", (unsigned long long)b_of_d(a), (unsigned long long)b_of_d(b),
          (unsigned long long)b_of_d(c));
  double na = (variant >= 2) ? -a : a, nc = (variant == 1 || variant == 3) ? -c : c;
  int infzero = (isinf(a) && b == 0) || (a == 0 && isinf(b));
  for (int m = 0; m < 4; m++) {
    fesetround(MODES[m]);
    feclearexcept(FE_ALL_EXCEPT);
    double r = d_fma(na, b, nc);
    int fl = flags_now() | (infzero ? 16 : 0);
    put(o, m, 16, canon_d(r), fl);
  }
  fesetround(FE_TONEAREST);
  fputc('\n', o);
}

static void emit_ffma(FILE *o, int variant, float a, float b, float c) {
  fprintf(o, "%08x %08x %08x", b_of_f(a), b_of_f(b), b_of_f(c));
  float na = (variant >= 2) ? -a : a, nc = (variant == 1 || variant == 3) ? -c : c;
  int infzero = (isinf(a) && b == 0) || (a == 0 && isinf(b));
  for (int m = 0; m < 4; m++) {
    fesetround(MODES[m]);
    feclearexcept(FE_ALL_EXCEPT);
    float r = f_fma(na, b, nc);
    int fl = flags_now() | (infzero ? 16 : 0);
    put(o, m, 8, canon_f(r), fl);
  }
  fesetround(FE_TONEAREST);
  fputc('\n', o);
}

static FILE *open_out(const char *dir, const char *name) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s.txt", dir, name);
  FILE *o = fopen(path, "w");
  if (!o) {
    perror(path);
    exit(1);
  }
  return o;
}

/* ---------- binary64 arithmetic ---------- */

static void gen_d2(const char *dir, const char *name, d2 op, int kind) {
  FILE *o = open_out(dir, name);
  for (size_t i = 0; i < N_D_SPECIAL; i++)
    for (size_t j = 0; j < N_D_SPECIAL; j++) emit_d2(o, op, d_of(D_SPECIAL[i]), d_of(D_SPECIAL[j]));
  for (int i = 0; i < 1200; i++) emit_d2(o, op, rnd_d(), rnd_d());
  for (int i = 0; i < 1200; i++) {
    double a = rnd_d_exp(1, 2046), b;
    int ea = (int)((b_of_d(a) >> 52) & 0x7ff);
    switch (kind) {
      case 0: /* add/sub: cancellation, ties, sticky bits, overflow and tiny sums */
        switch (rndn(5)) {
          case 0:
            b = -d_ulps(a, rndn(9) - 4);
            break;
          case 1: /* b near half an ulp of a (2^(ea-1023-53)) */
            b = copysign(ldexp(1.0, ea - 1023 - 52 - rndn(4)), (rnd() & 1) ? a : -a);
            if (b != 0) b = d_ulps(b, rndn(5) - 2);
            break;
          case 2:
            a = rnd_d_exp(2045, 2046);
            b = rnd_d_exp(2044, 2046);
            break;
          case 3:
            a = rnd_d_exp(0, 2);
            b = rnd_d_exp(0, 2);
            break;
          default:
            b = rnd_d_exp(ea > 60 ? ea - 60 : 1, ea);
        }
        break;
      case 1: { /* mul: products near the underflow and overflow thresholds */
        int target = rndn(2) ? 1 + rndn(3) - 1 : 2046 + rndn(3) - 1;
        if (rndn(4) == 0) target = 1023 + rndn(200) - 100;
        int eb = target + 1023 - ea + rndn(3) - 1;
        if (eb < 1) eb = 1;
        if (eb > 2046) eb = 2046;
        b = rnd_d_exp(eb, eb);
        break;
      }
      default: { /* div: quotients near the thresholds and exact quotients */
        int target = rndn(2) ? 1 + rndn(3) - 1 : 2046 + rndn(3) - 1;
        if (rndn(3) == 0) {
          double q = rnd_d_exp(1023 - 30, 1023 + 30);
          b = rnd_d_exp(1023 - 30, 1023 + 30);
          b = d_of(b_of_d(b) & ~0x3ffffffull);
          q = d_of(b_of_d(q) & ~0x3ffffffull);
          a = q * b;
          break;
        }
        int eb = ea - target + 1023 + rndn(3) - 1;
        if (eb < 1) eb = 1;
        if (eb > 2046) eb = 2046;
        b = rnd_d_exp(eb, eb);
      }
    }
    emit_d2(o, op, a, b);
  }
  fclose(o);
}

static void gen_dsqrt(const char *dir) {
  FILE *o = open_out(dir, "d_sqrt");
  for (int i = 0; i < 2400; i++) {
    double a;
    if (i < (int)N_D_SPECIAL) a = d_of(D_SPECIAL[i]);
    else if (i % 3 == 0) {
      double s = rnd_d_exp(1023 - 200, 1023 + 200);
      s = d_of(b_of_d(s) & ~0x7ffffffull);
      a = d_ulps(fabs(s * s), rndn(3) - 1);
    } else a = fabs(rnd_d());
    if (i % 17 == 0) a = -a;
    fprintf(o, "%016llx", (unsigned long long)b_of_d(a));
    for (int m = 0; m < 4; m++) {
      fesetround(MODES[m]);
      feclearexcept(FE_ALL_EXCEPT);
      double r = d_sqrt(a);
      int fl = flags_now();
      put(o, m, 16, canon_d(r), fl);
    }
    fesetround(FE_TONEAREST);
    fputc('\n', o);
  }
  fclose(o);
}

static void gen_dfma(const char *dir, const char *name, int variant, int count) {
  FILE *o = open_out(dir, name);
  static const int SP[] = {0, 1, 2, 4, 7, 10, 13, 14, 22, 23, 24, 26};
  const int nsp = sizeof SP / sizeof SP[0];
  if (variant == 0)
    for (int i = 0; i < nsp; i++)
      for (int j = 0; j < nsp; j++)
        for (int k = 0; k < nsp; k += (j % 3) + 1)
          emit_dfma(o, variant, d_of(D_SPECIAL[SP[i]]), d_of(D_SPECIAL[SP[j]]), d_of(D_SPECIAL[SP[k]]));
  for (int i = 0; i < count; i++) {
    double a = rnd_d(), b = rnd_d(), c = rnd_d();
    switch (rndn(7)) {
      case 0: /* c cancels most of a*b */
        a = rnd_d_exp(1023 - 60, 1023 + 60);
        b = rnd_d_exp(1023 - 60, 1023 + 60);
        fesetround(FE_TONEAREST);
        c = -d_ulps(a * b, rndn(7) - 3);
        if (rndn(2)) c = c + ldexp(a * b, -53 - rndn(10));
        break;
      case 1: { /* c tiny against a*b: sticky and tie cases */
        a = rnd_d_exp(1023 - 60, 1023 + 60);
        b = rnd_d_exp(1023 - 60, 1023 + 60);
        a = d_of(b_of_d(a) & ~0xfffffffull);
        b = d_of(b_of_d(b) & ~0x3ffffffull);
        int k = 50 + rndn(60);
        c = copysign(ldexp(1.0, ilogb(a * b) - k), rndn(2) ? 1.0 : -1.0);
        if (rndn(2)) c = d_ulps(c, rndn(5) - 2);
        break;
      }
      case 2: { /* results near the underflow threshold */
        int ea = 1 + rndn(2046);
        int eb = 1024 - ea + rndn(5) - 2; /* a*b near 2^-1022 */
        if (eb < 1) eb = 1;
        if (eb > 2046) eb = 2046;
        a = rnd_d_exp(ea, ea);
        b = rnd_d_exp(eb, eb);
        c = rndn(2) ? rnd_d_exp(0, 2) : -d_ulps(a * b, rndn(5) - 2);
        break;
      }
      case 3: { /* results near overflow */
        int ea = 1023 + rndn(1024);
        int eb = 2046 - ea + 1023 + rndn(3) - 1;
        if (eb > 2046) eb = 2046;
        a = rnd_d_exp(ea, ea);
        b = rnd_d_exp(eb, eb);
        c = rndn(2) ? rnd_d_exp(2040, 2046) : rnd_d();
        break;
      }
      case 4: /* products that underflow against a normal addend */
        a = rnd_d_exp(1, 400);
        b = rnd_d_exp(1, 400);
        c = rnd_d_exp(1, 2046);
        break;
      default:
        break;
    }
    emit_dfma(o, variant, a, b, c);
  }
  fclose(o);
}

/* ---------- binary32 arithmetic ---------- */

static void gen_f2(const char *dir, const char *name, f2 op, int kind) {
  FILE *o = open_out(dir, name);
  for (size_t i = 0; i < N_F_SPECIAL; i++)
    for (size_t j = 0; j < N_F_SPECIAL; j++) emit_f2(o, op, f_of(F_SPECIAL[i]), f_of(F_SPECIAL[j]));
  for (int i = 0; i < 1200; i++) emit_f2(o, op, rnd_f(), rnd_f());
  for (int i = 0; i < 1200; i++) {
    float a = rnd_f_exp(1, 254), b;
    int ea = (int)((b_of_f(a) >> 23) & 0xff);
    switch (kind) {
      case 0:
        switch (rndn(5)) {
          case 0:
            b = -f_ulps(a, rndn(9) - 4);
            break;
          case 1: {
            int k = 23 + rndn(4);
            int eb = ea - k;
            b = eb >= 1 ? f_of((uint32_t)eb << 23) : f_of(1);
            if (rnd() & 1) b = -b;
            b = f_ulps(b, rndn(5) - 2);
            break;
          }
          case 2:
            a = rnd_f_exp(253, 254);
            b = rnd_f_exp(252, 254);
            break;
          case 3:
            a = rnd_f_exp(0, 2);
            b = rnd_f_exp(0, 2);
            break;
          default:
            b = rnd_f_exp(ea > 30 ? ea - 30 : 1, ea);
        }
        break;
      case 1: {
        int target = rndn(2) ? rndn(3) : 253 + rndn(3);
        if (rndn(4) == 0) target = 127 + rndn(60) - 30;
        int eb = target + 127 - ea + rndn(3) - 1;
        if (eb < 1) eb = 1;
        if (eb > 254) eb = 254;
        b = rnd_f_exp(eb, eb);
        break;
      }
      default: {
        int target = rndn(2) ? rndn(3) : 253 + rndn(3);
        if (rndn(3) == 0) {
          float q = f_of(b_of_f(rnd_f_exp(127 - 20, 127 + 20)) & ~0xfffu);
          b = f_of(b_of_f(rnd_f_exp(127 - 20, 127 + 20)) & ~0xfffu);
          a = q * b;
          break;
        }
        int eb = ea - target + 127 + rndn(3) - 1;
        if (eb < 1) eb = 1;
        if (eb > 254) eb = 254;
        b = rnd_f_exp(eb, eb);
      }
    }
    emit_f2(o, op, a, b);
  }
  fclose(o);
}

static void gen_fsqrt(const char *dir) {
  FILE *o = open_out(dir, "s_sqrt");
  for (int i = 0; i < 2400; i++) {
    float a;
    if (i < (int)N_F_SPECIAL) a = f_of(F_SPECIAL[i]);
    else if (i % 3 == 0) {
      float s = f_of(b_of_f(rnd_f_exp(127 - 40, 127 + 40)) & ~0xfffu);
      a = f_ulps(fabsf(s * s), rndn(3) - 1);
    } else a = fabsf(rnd_f());
    if (i % 17 == 0) a = -a;
    fprintf(o, "%08x", b_of_f(a));
    for (int m = 0; m < 4; m++) {
      fesetround(MODES[m]);
      feclearexcept(FE_ALL_EXCEPT);
      float r = f_sqrt(a);
      int fl = flags_now();
      put(o, m, 8, canon_f(r), fl);
    }
    fesetround(FE_TONEAREST);
    fputc('\n', o);
  }
  fclose(o);
}

static void gen_ffma(const char *dir, const char *name, int variant, int count) {
  FILE *o = open_out(dir, name);
  static const int SP[] = {0, 1, 2, 4, 7, 10, 13, 14, 22, 23, 24, 26};
  const int nsp = sizeof SP / sizeof SP[0];
  if (variant == 0)
    for (int i = 0; i < nsp; i++)
      for (int j = 0; j < nsp; j++)
        for (int k = 0; k < nsp; k += (j % 3) + 1)
          emit_ffma(o, variant, f_of(F_SPECIAL[SP[i]]), f_of(F_SPECIAL[SP[j]]), f_of(F_SPECIAL[SP[k]]));
  for (int i = 0; i < count; i++) {
    float a = rnd_f(), b = rnd_f(), c = rnd_f();
    switch (rndn(7)) {
      case 0:
        a = rnd_f_exp(127 - 30, 127 + 30);
        b = rnd_f_exp(127 - 30, 127 + 30);
        fesetround(FE_TONEAREST);
        c = -f_ulps(a * b, rndn(7) - 3);
        if (rndn(2)) c = c + ldexpf(a * b, -24 - rndn(10));
        break;
      case 1: {
        a = f_of(b_of_f(rnd_f_exp(127 - 30, 127 + 30)) & ~0xfffu);
        b = f_of(b_of_f(rnd_f_exp(127 - 30, 127 + 30)) & ~0xfffu);
        int k = 22 + rndn(30);
        c = copysignf(ldexpf(1.0f, ilogbf(a * b) - k), rndn(2) ? 1.0f : -1.0f);
        if (rndn(2)) c = f_ulps(c, rndn(5) - 2);
        break;
      }
      case 2: {
        int ea = 1 + rndn(254);
        int eb = 128 - ea + rndn(5) - 2; /* a*b near 2^-126 */
        if (eb < 1) eb = 1;
        if (eb > 254) eb = 254;
        a = rnd_f_exp(ea, ea);
        b = rnd_f_exp(eb, eb);
        c = rndn(2) ? rnd_f_exp(0, 2) : -f_ulps((float)((double)a * b), rndn(5) - 2);
        break;
      }
      case 3: {
        int ea = 127 + rndn(128);
        int eb = 254 - ea + 127 + rndn(3) - 1;
        if (eb > 254) eb = 254;
        a = rnd_f_exp(ea, ea);
        b = rnd_f_exp(eb, eb);
        c = rndn(2) ? rnd_f_exp(248, 254) : rnd_f();
        break;
      }
      case 4:
        a = rnd_f_exp(1, 60);
        b = rnd_f_exp(1, 60);
        c = rnd_f_exp(1, 254);
        break;
      default:
        break;
    }
    emit_ffma(o, variant, a, b, c);
  }
  fclose(o);
}

/* ---------- conversions ---------- */

/* A double near integers and the integer-range boundaries. */
static double rnd_cvt_d(void) {
  static const double EDGE[] = {0x1p31, 0x1p32, 0x1p63, 0x1p64, 0x1p52, 0x1p53, 0x1p24, 1.0, 0.0};
  switch (rndn(6)) {
    case 0:
      return d_of(D_SPECIAL[rndn(N_D_SPECIAL)]);
    case 1: { /* k + j/4 around small integers */
      double v = (double)(rndn(41) - 20) / 4.0;
      return rndn(2) ? d_ulps(v, rndn(3) - 1) : v;
    }
    case 2: { /* around the boundaries, exactly, by ulps, by halves */
      double e = EDGE[rndn(sizeof EDGE / sizeof EDGE[0])];
      if (rndn(2)) e = -e;
      switch (rndn(4)) {
        case 0:
          return e;
        case 1:
          return e == 0 ? e : d_ulps(e, rndn(9) - 4);
        case 2:
          return e + (double)(rndn(9) - 4) * 0.5;
        default:
          return e + (double)(rndn(9) - 4) * 0.25 + (rndn(2) ? ldexp(1.0, -30) : 0);
      }
    }
    case 3:
      return rnd_d_exp(1023 - 3, 1023 + 66);
    default:
      return rnd_d();
  }
}

/* RISC-V result of converting a (already a double) to an integer type in the current mode. */
static uint64_t cvt_to_int(double a, int type, int *fl) {
  /* type: 0 w, 1 wu, 2 l, 3 lu */
  static const uint64_t MAXV[] = {0x7fffffffull, 0xffffffffffffffffull, 0x7fffffffffffffffull,
                                  0xffffffffffffffffull};
  static const uint64_t MINV[] = {0xffffffff80000000ull, 0, 0x8000000000000000ull, 0};
  feclearexcept(FE_ALL_EXCEPT);
  if (isnan(a)) {
    *fl = 16;
    return MAXV[type];
  }
  if (type == 3 && a >= 0x1p63) {
    if (a >= 0x1p64) {
      *fl = 16;
      return MAXV[type];
    }
    *fl = 0; /* integral already */
    return (uint64_t)(a - 0x1p63) + 0x8000000000000000ull;
  }
  long long r = d_rint64(a);
  int f = flags_now();
  if (f & 16) {
    *fl = 16;
    return a < 0 ? MINV[type] : MAXV[type];
  }
  int out;
  switch (type) {
    case 0:
      out = r < -2147483648LL || r > 2147483647LL;
      break;
    case 1:
      out = r < 0 || r > 4294967295LL;
      break;
    case 2:
      out = 0;
      break;
    default:
      out = r < 0;
  }
  if (out) {
    *fl = 16;
    return r < 0 ? MINV[type] : MAXV[type];
  }
  *fl = f;
  if (type == 1) return (uint64_t)(int64_t)(int32_t)(uint32_t)r; /* sign-extended */
  if (type == 0) return (uint64_t)(int64_t)(int32_t)r;
  return (uint64_t)r;
}

static void gen_to_int(const char *dir, int single) {
  static const char *NAMES[2][4] = {{"d_cvt_w", "d_cvt_wu", "d_cvt_l", "d_cvt_lu"},
                                    {"s_cvt_w", "s_cvt_wu", "s_cvt_l", "s_cvt_lu"}};
  for (int type = 0; type < 4; type++) {
    FILE *o = open_out(dir, NAMES[single][type]);
    for (int i = 0; i < 1500; i++) {
      double a;
      if (single) {
        float f = i < (int)N_F_SPECIAL ? f_of(F_SPECIAL[i]) : rndn(3) ? (float)rnd_cvt_d() : rnd_f();
        fprintf(o, "%08x", b_of_f(f));
        a = f;
      } else {
        a = i < (int)N_D_SPECIAL ? d_of(D_SPECIAL[i]) : rnd_cvt_d();
        fprintf(o, "%016llx", (unsigned long long)b_of_d(a));
      }
      for (int m = 0; m < 4; m++) {
        fesetround(MODES[m]);
        int fl;
        uint64_t r = cvt_to_int(a, type, &fl);
        put(o, m, 16, r, fl);
      }
      fesetround(FE_TONEAREST);
      fputc('\n', o);
    }
    fclose(o);
  }
}

static uint64_t rnd_int64(void) {
  static const uint64_t EDGE[] = {0,
                                  1,
                                  0xffffffffffffffffull,
                                  0x7fffffffffffffffull,
                                  0x8000000000000000ull,
                                  0x0020000000000001ull,
                                  0x0020000000000003ull,
                                  0x0040000000000002ull,
                                  0x0040000000000006ull,
                                  0x0000000001000001ull,
                                  0x0000000001000003ull,
                                  0xfffffffffeffffffull,
                                  0x00000000ffffffffull,
                                  0x0000000080000000ull,
                                  0xffffffff80000000ull,
                                  0x7fffffff00000000ull};
  switch (rndn(5)) {
    case 0:
      return EDGE[rndn(sizeof EDGE / sizeof EDGE[0])];
    case 1: { /* an exact 24- or 53-bit value plus a half or a sticky bit, at a random position */
      int bits = rndn(2) ? 24 : 53;
      int sh = rndn(64 - bits);
      uint64_t m = (rnd() | (1ull << (bits - 1))) & ((1ull << bits) - 1);
      uint64_t v = m << sh;
      if (sh > 0 && rndn(2)) v |= 1ull << (sh - 1);
      if (sh > 1 && rndn(2)) v |= 1;
      return rndn(3) == 0 ? (uint64_t)(-(int64_t)v) : v;
    }
    case 2:
      return rnd() >> rndn(64);
    case 3:
      return (uint64_t)(-(int64_t)(rnd() >> rndn(64)));
    default:
      return rnd();
  }
}

static void gen_from_int(const char *dir) {
  static const char *NAMES[2][4] = {{"d_cvt_from_w", "d_cvt_from_wu", "d_cvt_from_l", "d_cvt_from_lu"},
                                    {"s_cvt_from_w", "s_cvt_from_wu", "s_cvt_from_l", "s_cvt_from_lu"}};
  for (int single = 0; single < 2; single++)
    for (int type = 0; type < 4; type++) {
      FILE *o = open_out(dir, NAMES[single][type]);
      int count = (type < 2 && !single) ? 300 : 1500;
      for (int i = 0; i < count; i++) {
        uint64_t v = rnd_int64();
        if (type == 0) v = (uint64_t)(int64_t)(int32_t)v;
        if (type == 1) v = (uint32_t)v;
        if (type < 2 && rndn(2)) v = (type == 0) ? (uint64_t)(int64_t)(int32_t)(rnd() >> rndn(32)) : (uint32_t)(rnd() >> rndn(32));
        fprintf(o, "%016llx", (unsigned long long)v);
        for (int m = 0; m < 4; m++) {
          fesetround(MODES[m]);
          feclearexcept(FE_ALL_EXCEPT);
          int signd = (type == 0 || type == 2);
          if (single) {
            float r = signd ? f_of_i64((int64_t)v) : f_of_u64(v);
            int fl = flags_now();
            put(o, m, 8, b_of_f(r), fl);
          } else {
            double r = signd ? d_of_i64((int64_t)v) : d_of_u64(v);
            int fl = flags_now();
            put(o, m, 16, b_of_d(r), fl);
          }
        }
        fesetround(FE_TONEAREST);
        fputc('\n', o);
      }
      fclose(o);
    }
}

static void gen_d_to_s(const char *dir) {
  FILE *o = open_out(dir, "s_cvt_from_d");
  for (int i = 0; i < 3000; i++) {
    double a;
    if (i < (int)N_D_SPECIAL) a = d_of(D_SPECIAL[i]);
    else
      switch (rndn(4)) {
        case 0: /* around the binary32 range ends: 2^-150..2^-125, 2^127..2^129 */
          a = rnd_d_exp(1023 - 151, 1023 - 125);
          break;
        case 1:
          a = rnd_d_exp(1023 + 126, 1023 + 128);
          break;
        case 2: { /* binary32 values and midpoints, exact and perturbed */
          float f = rnd_f();
          if (isnan(f) || isinf(f)) f = 1.0f;
          a = (double)f;
          if (rndn(2)) a = d_of(b_of_d(a) + (1ull << 28) * (rndn(2) ? 1 : 0xfffffffffffffull));
          if (rndn(2)) a = d_ulps(a, rndn(3) - 1);
          break;
        }
        default:
          a = rnd_d_exp(1023 - 160, 1023 + 160);
      }
    fprintf(o, "%016llx", (unsigned long long)b_of_d(a));
    for (int m = 0; m < 4; m++) {
      fesetround(MODES[m]);
      feclearexcept(FE_ALL_EXCEPT);
      float r = f_of_d(a);
      int fl = flags_now();
      put(o, m, 8, canon_f(r), fl);
    }
    fesetround(FE_TONEAREST);
    fputc('\n', o);
  }
  fclose(o);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s <output dir>\n", argv[0]);
    return 2;
  }
  const char *dir = argv[1];
  gen_d2(dir, "d_add", d_add, 0);
  gen_d2(dir, "d_sub", d_sub, 0);
  gen_d2(dir, "d_mul", d_mul, 1);
  gen_d2(dir, "d_div", d_div, 2);
  gen_dsqrt(dir);
  gen_dfma(dir, "d_fmadd", 0, 4000);
  gen_dfma(dir, "d_fmsub", 1, 800);
  gen_dfma(dir, "d_fnmsub", 2, 800);
  gen_dfma(dir, "d_fnmadd", 3, 800);
  gen_f2(dir, "s_add", f_add, 0);
  gen_f2(dir, "s_sub", f_sub, 0);
  gen_f2(dir, "s_mul", f_mul, 1);
  gen_f2(dir, "s_div", f_div, 2);
  gen_fsqrt(dir);
  gen_ffma(dir, "s_fmadd", 0, 4000);
  gen_ffma(dir, "s_fmsub", 1, 800);
  gen_ffma(dir, "s_fnmsub", 2, 800);
  gen_ffma(dir, "s_fnmadd", 3, 800);
  gen_to_int(dir, 0);
  gen_to_int(dir, 1);
  gen_from_int(dir);
  gen_d_to_s(dir);
  return 0;
}
