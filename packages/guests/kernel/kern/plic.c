/*
 * The platform-level interrupt controller (RISC-V PLIC specification 1.0):
 * priorities per source, an enable bitmap and a threshold per context,
 * claim/complete per context. The kernel uses the S-mode context of its
 * hart (found in the devicetree) with threshold 0.
 */
#include "kernel.h"

#define PRIORITY(irq) (4 * (uint64_t)(irq))
#define ENABLE(ctx) (0x2000 + 0x80 * (uint64_t)(ctx))
#define THRESHOLD(ctx) (0x200000 + 0x1000 * (uint64_t)(ctx))
#define CLAIM(ctx) (THRESHOLD(ctx) + 4)

static uint64_t plic;
static uint32_t context;

static volatile uint32_t *reg(uint64_t offset) { return (volatile uint32_t *)(uintptr_t)(plic + offset); }

void plic_init(uint64_t base, uint32_t ctx) {
  plic = base;
  context = ctx;
  *reg(THRESHOLD(context)) = 0;
}

void plic_enable(uint32_t irq) {
  if (plic == 0 || irq == 0 || irq >= 1024) return;
  *reg(PRIORITY(irq)) = 1;
  volatile uint32_t *word = reg(ENABLE(context) + 4 * (irq / 32));
  *word = *word | (1U << (irq % 32));
}

uint32_t plic_claim(void) { return plic ? *reg(CLAIM(context)) : 0; }

void plic_complete(uint32_t irq) {
  if (plic) *reg(CLAIM(context)) = irq;
}
