/* A bare-metal entry point for the fixtures: set up a stack, run the tests, park. */
#include <stdint.h>

int64_t integer_main(void);
double float_main(void);
int64_t atomics_main(void);
unsigned long system_main(void);

static uint64_t stack[512] __attribute__((aligned(16)));
volatile int64_t result;

__attribute__((used)) void run(void) {
  result = integer_main() + (int64_t)float_main() + atomics_main() + (int64_t)system_main();
}

__attribute__((naked, section(".text.init"))) void _start(void) {
  __asm__ volatile("la sp, %0\n"
                   "li t0, %1\n"
                   "add sp, sp, t0\n"
                   "call run\n"
                   "1: wfi\n"
                   "j 1b\n" ::"i"(stack),
                   "i"(sizeof stack));
}

/* An odd-sized tail at the very end of the code, where no instruction fits. */
__asm__(".section .tailcode,\"ax\",@progbits\n"
        "tail: .byte 0x13, 0x05, 0xa0\n");
