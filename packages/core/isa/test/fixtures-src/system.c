/*
 * Privileged code for the disassembler fixtures: CSR access in every form,
 * the fences, environment calls, trap returns, wfi and sfence.vma, plus
 * trap handlers the compiler builds itself.
 */
#include <stdint.h>

#define csr_read(name)                                   \
  ({                                                     \
    unsigned long v_;                                    \
    __asm__ volatile("csrr %0, " #name : "=r"(v_));      \
    v_;                                                  \
  })
#define csr_write(name, v) __asm__ volatile("csrw " #name ", %0" ::"r"((unsigned long)(v)))
#define csr_set(name, v) __asm__ volatile("csrs " #name ", %0" ::"r"((unsigned long)(v)))
#define csr_clear(name, v) __asm__ volatile("csrc " #name ", %0" ::"r"((unsigned long)(v)))

unsigned long machine_csrs(void) {
  unsigned long s = csr_read(mstatus) + csr_read(misa) + csr_read(mhartid) + csr_read(mvendorid);
  s += csr_read(marchid) + csr_read(mimpid) + csr_read(mepc) + csr_read(mcause) + csr_read(mtval);
  s += csr_read(mip) + csr_read(mie) + csr_read(mtvec) + csr_read(mscratch) + csr_read(medeleg);
  s += csr_read(mideleg) + csr_read(mcounteren) + csr_read(mcycle) + csr_read(minstret);
  s += csr_read(pmpcfg0) + csr_read(pmpcfg2) + csr_read(pmpaddr0) + csr_read(pmpaddr15);
  s += csr_read(mhpmcounter3) + csr_read(mhpmevent31) + csr_read(mcountinhibit);
  s += csr_read(tselect) + csr_read(tdata1) + csr_read(dcsr) + csr_read(dpc) + csr_read(dscratch0);
  csr_write(mtvec, s);
  csr_write(mepc, s + 4);
  csr_write(mscratch, 0);
  csr_set(mstatus, 1ul << 3);
  csr_clear(mstatus, 1ul << 3);
  csr_set(mie, 1ul << 7);
  csr_clear(mip, 1ul << 5);
  csr_write(satp, 0);
  csr_write(pmpcfg0, 0x1f);
  csr_write(pmpaddr0, ~0ul);
  return s;
}

unsigned long supervisor_csrs(void) {
  unsigned long s = csr_read(sstatus) + csr_read(sie) + csr_read(stvec) + csr_read(scounteren);
  s += csr_read(sscratch) + csr_read(sepc) + csr_read(scause) + csr_read(stval) + csr_read(sip);
  s += csr_read(satp);
  csr_write(stvec, s);
  csr_write(sepc, s + 4);
  csr_set(sstatus, 1ul << 1);
  csr_clear(sstatus, 1ul << 1);
  csr_set(sie, 1ul << 5);
  return s;
}

unsigned long hypervisor_csrs(void) {
  unsigned long s = csr_read(hstatus) + csr_read(hedeleg) + csr_read(hideleg) + csr_read(hie);
  s += csr_read(hcounteren) + csr_read(hgeie) + csr_read(htval) + csr_read(hip) + csr_read(hvip);
  s += csr_read(htinst) + csr_read(hgatp) + csr_read(hgeip) + csr_read(htimedelta);
  s += csr_read(vsstatus) + csr_read(vsie) + csr_read(vstvec) + csr_read(vsscratch) + csr_read(vsepc);
  s += csr_read(vscause) + csr_read(vstval) + csr_read(vsip) + csr_read(vsatp);
  csr_write(hgatp, s);
  csr_set(hstatus, 1ul << 7);
  csr_clear(hvip, 1ul << 2);
  csr_write(vsatp, 0);
  return s;
}

unsigned long counters(void) {
  unsigned long c, t, i;
  __asm__ volatile("rdcycle %0" : "=r"(c));
  __asm__ volatile("rdtime %0" : "=r"(t));
  __asm__ volatile("rdinstret %0" : "=r"(i));
  return c + t + i + csr_read(cycle) + csr_read(hpmcounter3) + csr_read(hpmcounter31);
}

/* The register-and-result forms and the immediate forms. */
unsigned long csr_forms(unsigned long v) {
  unsigned long a, b, c, d, e, f;
  __asm__ volatile("csrrw %0, mscratch, %1" : "=r"(a) : "r"(v));
  __asm__ volatile("csrrs %0, mstatus, %1" : "=r"(b) : "r"(v));
  __asm__ volatile("csrrc %0, mie, %1" : "=r"(c) : "r"(v));
  __asm__ volatile("csrrwi %0, sscratch, 17" : "=r"(d));
  __asm__ volatile("csrrsi %0, sstatus, 2" : "=r"(e));
  __asm__ volatile("csrrci %0, sstatus, 31" : "=r"(f));
  __asm__ volatile("csrwi mscratch, 5");
  __asm__ volatile("csrsi mstatus, 8");
  __asm__ volatile("csrci mstatus, 8");
  __asm__ volatile("csrw 0x7c0, %0" ::"r"(v));
  __asm__ volatile("csrr %0, 0x7c1" : "=r"(a));
  __asm__ volatile("csrrs %0, 0xfc0, zero" : "=r"(b));
  return a + b + c + d + e + f;
}

void barriers(void) {
  __asm__ volatile("fence");
  __asm__ volatile("fence rw, rw");
  __asm__ volatile("fence r, rw");
  __asm__ volatile("fence rw, w");
  __asm__ volatile("fence iorw, iorw");
  __asm__ volatile("fence i, o");
  __asm__ volatile("fence w, r");
  __asm__ volatile("fence ow, ir");
  __asm__ volatile("fence.i");
  __asm__ volatile("fence.tso");
  __asm__ volatile("sfence.vma");
  __asm__ volatile("sfence.vma a0");
  __asm__ volatile("sfence.vma a0, a1");
  __asm__ volatile("sfence.vma zero, a1");
}

long syscall3(long n, long a, long b, long c) {
  register long a7 __asm__("a7") = n;
  register long a0 __asm__("a0") = a;
  register long a1 __asm__("a1") = b;
  register long a2 __asm__("a2") = c;
  __asm__ volatile("ecall" : "+r"(a0) : "r"(a7), "r"(a1), "r"(a2) : "memory");
  return a0;
}

void breakpoint(void) { __asm__ volatile("ebreak"); }
/* The 32-bit encodings of instructions the assembler would otherwise compress. */
void uncompressed(void) { __asm__ volatile(".option push\n.option norvc\nebreak\nnop\naddi sp, sp, 0\n.option pop"); }
void idle(void) { __asm__ volatile("wfi"); }
void to_supervisor(void) { __asm__ volatile("mret"); }
void to_user(void) { __asm__ volatile("sret"); }
void trap(void) { __builtin_trap(); }
void nothing(void) { __asm__ volatile("nop"); }
void illegal(void) { __asm__ volatile("unimp"); }

volatile unsigned long ticks;

__attribute__((interrupt("machine"))) void machine_trap(void) {
  ticks += csr_read(mcause);
  csr_write(mepc, csr_read(mepc) + 4);
}

__attribute__((interrupt("supervisor"))) void supervisor_trap(void) { ticks += csr_read(scause); }

/* Constant data placed in code: llvm-objdump dumps object symbols in text as bytes. */
__attribute__((section(".text.table"), used)) const uint32_t magic_table[5] = {0x12345678, 0, 0xffffffff, 0x41424344, 7};

unsigned long system_main(void) {
  unsigned long r = machine_csrs() + supervisor_csrs() + hypervisor_csrs() + counters() + csr_forms(3);
  barriers();
  uncompressed();
  r += (unsigned long)syscall3(93, 1, 2, 3) + magic_table[ticks & 3];
  if (r == 0) trap();
  return r;
}
