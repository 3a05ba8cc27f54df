/*
 * Floating-point code for the disassembler fixtures: single and double
 * arithmetic, fused multiply-add in all four sign variants, square root,
 * min/max, comparisons, classification, sign injection, every conversion
 * between integers and both formats, bit moves, and the fcsr accessors.
 */
#include <stdint.h>

float addf(float a, float b) { return a + b; }
float subf(float a, float b) { return a - b; }
float mulf(float a, float b) { return a * b; }
float divf(float a, float b) { return a / b; }
double addd(double a, double b) { return a + b; }
double subd(double a, double b) { return a - b; }
double muld(double a, double b) { return a * b; }
double divd(double a, double b) { return a / b; }

float sqrtf_(float a) { return __builtin_sqrtf(a); }
double sqrt_(double a) { return __builtin_sqrt(a); }

/* fmadd, fmsub, fnmsub, fnmadd */
float fmaf_(float a, float b, float c) { return __builtin_fmaf(a, b, c); }
float fmsf(float a, float b, float c) { return __builtin_fmaf(a, b, -c); }
float fnmsf(float a, float b, float c) { return __builtin_fmaf(-a, b, c); }
float fnmaf(float a, float b, float c) { return __builtin_fmaf(-a, b, -c); }
double fma_(double a, double b, double c) { return __builtin_fma(a, b, c); }
double fmsd(double a, double b, double c) { return __builtin_fma(a, b, -c); }
double fnmsd(double a, double b, double c) { return __builtin_fma(-a, b, c); }
double fnmad(double a, double b, double c) { return __builtin_fma(-a, b, -c); }

float minf(float a, float b) { return __builtin_fminf(a, b); }
float maxf(float a, float b) { return __builtin_fmaxf(a, b); }
double mind(double a, double b) { return __builtin_fmin(a, b); }
double maxd(double a, double b) { return __builtin_fmax(a, b); }

int cmpf(float a, float b) { return (a == b) + 2 * (a < b) + 4 * (a <= b) + 8 * (a > b) + 16 * (a >= b) + 32 * (a != b); }
int cmpd(double a, double b) { return (a == b) + 2 * (a < b) + 4 * (a <= b) + 8 * (a > b) + 16 * (a >= b) + 32 * (a != b); }

int classf(float a) {
  return __builtin_isnan(a) + 2 * __builtin_isinf(a) + 4 * __builtin_isfinite(a) + 8 * __builtin_signbit(a);
}
int classd(double a) {
  return __builtin_isnan(a) + 2 * __builtin_isinf(a) + 4 * __builtin_isnormal(a) + 8 * __builtin_signbit(a);
}
long fclass_s(float a) {
  long r;
  __asm__("fclass.s %0, %1" : "=r"(r) : "f"(a));
  return r;
}
long fclass_d(double a) {
  long r;
  __asm__("fclass.d %0, %1" : "=r"(r) : "f"(a));
  return r;
}

/* fsgnj, fsgnjn, fsgnjx and the fmv/fneg/fabs aliases */
float signf(float a, float b) { return __builtin_copysignf(a, b) + __builtin_copysignf(a, -b) + __builtin_fabsf(a) - a; }
double signd(double a, double b) { return __builtin_copysign(a, b) + __builtin_copysign(a, -b) + __builtin_fabs(a) - a; }
float sgnjx_s(float a, float b) {
  float r;
  __asm__("fsgnjx.s %0, %1, %2" : "=f"(r) : "f"(a), "f"(b));
  return r;
}
double sgnjx_d(double a, double b) {
  double r;
  __asm__("fsgnjx.d %0, %1, %2" : "=f"(r) : "f"(a), "f"(b));
  return r;
}

/* Conversions, rounding towards zero as C requires. */
int32_t f2i(float a) { return (int32_t)a; }
uint32_t f2u(float a) { return (uint32_t)a; }
int64_t f2l(float a) { return (int64_t)a; }
uint64_t f2lu(float a) { return (uint64_t)a; }
int32_t d2i(double a) { return (int32_t)a; }
uint32_t d2u(double a) { return (uint32_t)a; }
int64_t d2l(double a) { return (int64_t)a; }
uint64_t d2lu(double a) { return (uint64_t)a; }
float i2f(int32_t a) { return (float)a; }
float u2f(uint32_t a) { return (float)a; }
float l2f(int64_t a) { return (float)a; }
float lu2f(uint64_t a) { return (float)a; }
double i2d(int32_t a) { return (double)a; }
double u2d(uint32_t a) { return (double)a; }
double l2d(int64_t a) { return (double)a; }
double lu2d(uint64_t a) { return (double)a; }
float d2f(double a) { return (float)a; }
double f2d(float a) { return (double)a; }

/* Explicit rounding modes. */
long rounding(double d, float f) {
  long a, b, c, e, g;
  __asm__("fcvt.l.d %0, %1, rne" : "=r"(a) : "f"(d));
  __asm__("fcvt.l.d %0, %1, rdn" : "=r"(b) : "f"(d));
  __asm__("fcvt.l.d %0, %1, rup" : "=r"(c) : "f"(d));
  __asm__("fcvt.w.s %0, %1, rmm" : "=r"(e) : "f"(f));
  __asm__("fcvt.w.s %0, %1, dyn" : "=r"(g) : "f"(f));
  float h;
  __asm__("fadd.s %0, %1, %1, rtz" : "=f"(h) : "f"(f));
  return a + b + c + e + g + (long)h;
}

/* Bit moves between the register files. */
union fbits {
  float f;
  uint32_t u;
};
union dbits {
  double d;
  uint64_t u;
};
uint32_t fbits_of(float f) {
  union fbits x = {.f = f};
  return x.u;
}
float float_of(uint32_t u) {
  union fbits x = {.u = u};
  return x.f;
}
uint64_t dbits_of(double d) {
  union dbits x = {.d = d};
  return x.u;
}
double double_of(uint64_t u) {
  union dbits x = {.u = u};
  return x.d;
}

/* The floating-point CSR and its fields. */
unsigned long fenv(unsigned long mode) {
  unsigned long flags, rm, all, old;
  __asm__ volatile("frflags %0" : "=r"(flags));
  __asm__ volatile("frrm %0" : "=r"(rm));
  __asm__ volatile("frcsr %0" : "=r"(all));
  __asm__ volatile("fsrm %0" ::"r"(mode));
  __asm__ volatile("fsrm %0, %1" : "=r"(old) : "r"(mode));
  __asm__ volatile("fsflags %0" ::"r"(flags));
  __asm__ volatile("fscsr %0" ::"r"(all));
  __asm__ volatile("fsrmi 1");
  __asm__ volatile("fsflagsi 0");
  __asm__ volatile("fsrmi %0, 4" : "=r"(old));
  return flags + rm + all + old;
}

double poly(const double *c, int n, double x) {
  double r = 0;
  for (int i = n - 1; i >= 0; i--) r = r * x + c[i];
  return r;
}

float dotf(const float *a, const float *b, int n) {
  float s = 0;
  for (int i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

void scale(float *a, int n, float k) {
  for (int i = 0; i < n; i++) a[i] *= k;
}

/* Doubles live across calls sit in callee-saved registers, spilled to the stack (c.fsdsp, c.fldsp). */
__attribute__((noinline)) double step(double x) { return x * 0.5 + 1.0; }
double across_calls(double a, double b, double c) {
  double x = step(a), y = step(b), z = step(c);
  double w = step(x + y);
  return x * y + z * w + a * b * c;
}

static double coeffs[4] = {1.0, -0.5, 0.25, 3.75};
static float vec[4] = {1.5f, 2.5f, -3.0f, 0.125f};
volatile double fsink;

double float_main(void) {
  double r = addd(1, 2) + subd(3, 4) + muld(5, 6) + divd(7, 8) + sqrt_(2.0) + fma_(1, 2, 3) + fmsd(1, 2, 3);
  r += fnmsd(1, 2, 3) + fnmad(1, 2, 3) + mind(1, 2) + maxd(1, 2) + cmpd(1, 2) + classd(r) + (double)fclass_d(r);
  r += signd(r, -1) + sgnjx_d(r, 2) + d2i(r) + d2u(r) + (double)d2l(r) + (double)d2lu(r) + i2d(3) + u2d(4) + l2d(5);
  r += lu2d(6) + (double)dbits_of(r) + double_of(7) + (double)fenv(0) + poly(coeffs, 4, 0.5) + (double)rounding(r, 1.5f);
  float f = addf(1, 2) + subf(3, 4) + mulf(5, 6) + divf(7, 8) + sqrtf_(2) + fmaf_(1, 2, 3) + fmsf(1, 2, 3);
  f += fnmsf(1, 2, 3) + fnmaf(1, 2, 3) + minf(1, 2) + maxf(1, 2) + (float)cmpf(1, 2) + (float)classf(f);
  f += (float)fclass_s(f) + signf(f, 2) + sgnjx_s(f, 3) + (float)f2i(f) + (float)f2u(f) + (float)f2l(f);
  f += (float)f2lu(f) + i2f(1) + u2f(2) + l2f(3) + lu2f(4) + (float)fbits_of(f) + float_of(5) + dotf(vec, vec, 4);
  scale(vec, 4, f);
  r += f2d(f) + d2f(r) + across_calls(r, 2, 3);
  fsink = r;
  return r;
}
