/**
 * Tiny S-mode guests for `hvkit run --kernel`, assembled at test time: they
 * start where the Linux boot protocol starts a kernel (0x80200000, S-mode)
 * and talk to the built-in firmware through SBI, as Linux does.
 */
import { assembleElf } from "@hvkit/isa";

/** Where the virt board loads a kernel. */
const KERNEL_BASE = 0x80200000n;

const SBI = `
.equ EID_LEGACY_PUTCHAR, 0x01
.equ EID_DBCN, 0x4442434E
.equ EID_SRST, 0x53525354
`;

/** SRST system_reset(shutdown, reason): reason 0 is a clean power-off, 1 a system failure. */
const shutdown = (reason: number): string => `
  li a0, 0
  li a1, ${reason}
  li a6, 0
  li a7, EID_SRST
  ecall
9: j 9b
`;

const assemble = (source: string, name: string): Uint8Array =>
  assembleElf(`${SBI}${source}`, { base: KERNEL_BASE, fileName: name });

/**
 * Prints `text` with one DBCN console_write, then "!\n" with the legacy
 * putchar, then powers off with `reason`.
 */
export function helloGuest(text: string, reason = 0): Uint8Array {
  return assemble(
    `
.globl _start
_start:
  la a1, msg
  li a0, ${new TextEncoder().encode(text).length}
  li a2, 0
  li a6, 0
  li a7, EID_DBCN
  ecall
  li a0, '!'
  li a7, EID_LEGACY_PUTCHAR
  ecall
  li a0, '\\n'
  li a7, EID_LEGACY_PUTCHAR
  ecall
${shutdown(reason)}
.data
msg: .ascii ${JSON.stringify(text)}
`,
    "hello.s",
  );
}

/**
 * Echoes what arrives on the 16550 UART (polling LSR.DR, as a console
 * driver does before interrupts are set up) until a newline, then powers off
 * cleanly. Linux's console=ttyS0 reads the same UART.
 */
export function echoGuest(): Uint8Array {
  return assemble(
    `
.equ UART0, 0x10000000
.globl _start
_start:
  li s0, UART0
1:
  lbu t0, 5(s0)
  andi t0, t0, 1
  beqz t0, 1b
  lbu s1, 0(s0)
  sb s1, 0(s0)
  li t0, '\\n'
  bne s1, t0, 1b
${shutdown(0)}
`,
    "echo.s",
  );
}

/** Waits in WFI with no timer armed and interrupts off: only console input could wake it, and it ignores that. */
export function idleGuest(): Uint8Array {
  return assemble(
    `
.globl _start
_start:
  csrw sie, zero
  li t0, -1
  csrw stimecmp, t0
1: wfi
  j 1b
`,
    "idle.s",
  );
}

/** Spins forever. */
export function spinGuest(): Uint8Array {
  return assemble(".globl _start\n_start: j _start\n", "spin.s");
}

/** Executes ebreak (which the test strategies make an exit to the VMM). */
export function ebreakGuest(): Uint8Array {
  return assemble(".globl _start\n_start:\n  ebreak\n1: j 1b\n", "ebreak.s");
}

/** Writes `value` to the SiFive test finisher (0x100000, a 32-bit store): 0x5555 pass, (code << 16) | 0x3333 fail, 0x7777 reset. */
export function finisherGuest(value: number): Uint8Array {
  return assemble(
    `
.globl _start
_start:
  li t0, 0x100000
  li t1, ${value}
  sw t1, 0(t0)
1: j 1b
`,
    "finisher.s",
  );
}

/** Asks for a cold reboot through SBI SRST (reset_type 1). */
export function rebootGuest(): Uint8Array {
  return assemble(
    `
.globl _start
_start:
  li a0, 1
  li a1, 0
  li a6, 0
  li a7, EID_SRST
  ecall
1: j 1b
`,
    "reboot.s",
  );
}

/** Prints "y\n" forever, like yes(1). */
export function yesGuest(): Uint8Array {
  return assemble(
    `
.globl _start
_start:
  li a0, 'y'
  li a7, EID_LEGACY_PUTCHAR
  ecall
  li a0, '\\n'
  li a7, EID_LEGACY_PUTCHAR
  ecall
  j _start
`,
    "yes.s",
  );
}
