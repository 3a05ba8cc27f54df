/*
 * Atomics for the disassembler fixtures: every AMO, LR/SC loops for
 * compare-and-swap and the sub-word operations, each memory order, and the
 * fences the orders compile to.
 */
#include <stdint.h>

/* One function per operation and memory order, for 32- and 64-bit values. */
#define RMW(name, op, type, order) \
  type name##_##type##_##order(type *p, type v) { return __atomic_##op(p, v, __ATOMIC_##order); }

#define RMW_ORDERS(name, op, type) \
  RMW(name, op, type, RELAXED)     \
  RMW(name, op, type, ACQUIRE)     \
  RMW(name, op, type, RELEASE)     \
  RMW(name, op, type, ACQ_REL)     \
  RMW(name, op, type, SEQ_CST)

#define RMW_ALL(type)                       \
  RMW_ORDERS(swap, exchange_n, type)        \
  RMW_ORDERS(add, fetch_add, type)          \
  RMW_ORDERS(sub, fetch_sub, type)          \
  RMW_ORDERS(and, fetch_and, type)          \
  RMW_ORDERS(or, fetch_or, type)            \
  RMW_ORDERS(xor, fetch_xor, type)          \
  RMW_ORDERS(nand, fetch_nand, type)        \
  RMW(min, fetch_min, type, SEQ_CST)        \
  RMW(max, fetch_max, type, ACQUIRE)

RMW_ALL(int32_t)
RMW_ALL(int64_t)
RMW(minu, fetch_min, uint32_t, RELEASE)
RMW(maxu, fetch_max, uint32_t, RELAXED)
RMW(minu, fetch_min, uint64_t, ACQ_REL)
RMW(maxu, fetch_max, uint64_t, SEQ_CST)

/* Sub-word atomics become masked LR/SC loops. */
RMW(add, fetch_add, int8_t, SEQ_CST)
RMW(swap, exchange_n, int16_t, ACQUIRE)
RMW(min, fetch_min, int16_t, RELAXED)
RMW(maxu, fetch_max, uint8_t, RELEASE)

#define LOAD(type, order) \
  type load_##type##_##order(const type *p) { return __atomic_load_n(p, __ATOMIC_##order); }
#define STORE(type, order) \
  void store_##type##_##order(type *p, type v) { __atomic_store_n(p, v, __ATOMIC_##order); }

LOAD(int32_t, RELAXED)
LOAD(int32_t, ACQUIRE)
LOAD(int32_t, SEQ_CST)
LOAD(int64_t, RELAXED)
LOAD(int64_t, ACQUIRE)
LOAD(int64_t, SEQ_CST)
LOAD(int8_t, SEQ_CST)
STORE(int32_t, RELAXED)
STORE(int32_t, RELEASE)
STORE(int32_t, SEQ_CST)
STORE(int64_t, RELAXED)
STORE(int64_t, RELEASE)
STORE(int64_t, SEQ_CST)
STORE(int16_t, RELEASE)

#define CAS(type, success, failure, weak)                                                              \
  int cas_##type##_##success##_##failure##_##weak(type *p, type *expected, type desired) {            \
    return __atomic_compare_exchange_n(p, expected, desired, weak, __ATOMIC_##success, __ATOMIC_##failure); \
  }

CAS(int32_t, RELAXED, RELAXED, 0)
CAS(int32_t, ACQUIRE, ACQUIRE, 0)
CAS(int32_t, RELEASE, RELAXED, 0)
CAS(int32_t, ACQ_REL, ACQUIRE, 1)
CAS(int32_t, SEQ_CST, SEQ_CST, 0)
CAS(int64_t, RELAXED, RELAXED, 1)
CAS(int64_t, ACQUIRE, RELAXED, 0)
CAS(int64_t, RELEASE, RELAXED, 0)
CAS(int64_t, ACQ_REL, ACQUIRE, 0)
CAS(int64_t, SEQ_CST, SEQ_CST, 1)
CAS(uint8_t, SEQ_CST, SEQ_CST, 0)

void fences(void) {
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  __atomic_thread_fence(__ATOMIC_RELEASE);
  __atomic_thread_fence(__ATOMIC_ACQ_REL);
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* A spin lock as a kernel would write it. */
typedef struct {
  int32_t locked;
} spinlock;

void spin_lock(spinlock *l) {
  while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
    while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED)) {
    }
}

void spin_unlock(spinlock *l) { __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE); }

static spinlock lock;
static int64_t shared;

int64_t atomics_main(void) {
  spin_lock(&lock);
  int64_t v = add_int64_t_SEQ_CST(&shared, 5) + load_int64_t_ACQUIRE(&shared);
  int64_t e = 5;
  v += cas_int64_t_SEQ_CST_SEQ_CST_1(&shared, &e, 9);
  fences();
  spin_unlock(&lock);
  return v;
}
