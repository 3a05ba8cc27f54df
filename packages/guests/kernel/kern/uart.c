/*
 * The console UART: an ns16550a with byte-wide registers (reg-shift 0), as
 * on QEMU's virt board. Output polls LSR.THRE; input is interrupt-driven
 * (IER.ERBFI through the PLIC) into the console queue.
 */
#include "kernel.h"

#define RBR 0 /* receive buffer (read) */
#define THR 0 /* transmit holding (write) */
#define IER 1
#define LCR 3
#define MCR 4
#define LSR 5
#define IER_RX_AVAILABLE 0x01
#define LCR_8N1 0x03
#define MCR_DTR_RTS_OUT2 0x0b /* OUT2 gates the interrupt line on PC-style boards */
#define LSR_DR 0x01
#define LSR_THRE 0x20

static volatile uint8_t *uart;

static uint8_t reg_read(int r) { return uart[r]; }
static void reg_write(int r, uint8_t v) { uart[r] = v; }

void uart_init(uint64_t base) {
  uart = (volatile uint8_t *)(uintptr_t)base;
  if (uart == NULL) return;
  reg_write(IER, 0);
  /*
   * FCR is left as the firmware set it: switching the FIFO mode (or the
   * clear bits) would drop input that arrived before the kernel, e.g. typed
   * ahead or queued by the host. What did arrive is kept for the console.
   */
  for (int c; (c = uart_getc()) >= 0;) console_input((uint8_t)c);
  reg_write(LCR, LCR_8N1); /* the firmware set the baud rate; keep it (DLAB stays 0) */
  reg_write(MCR, MCR_DTR_RTS_OUT2);
}

/* Start taking receive interrupts (after the PLIC routes them). */
void uart_enable_rx_irq(void) {
  if (uart != NULL) reg_write(IER, IER_RX_AVAILABLE);
}

/* Polls of LSR before giving up on THRE: a broken UART must not hang the kernel (the byte is sent anyway). */
#define THRE_SPIN_LIMIT 1000000

void uart_putc(char c) {
  if (uart == NULL) return;
  for (int spins = 0; (reg_read(LSR) & LSR_THRE) == 0 && spins < THRE_SPIN_LIMIT; spins++) {
  }
  reg_write(THR, (uint8_t)c);
}

uint8_t uart_lsr(void) { return reg_read(LSR); }

int uart_getc(void) { return (reg_read(LSR) & LSR_DR) ? reg_read(RBR) : -1; }

void uart_intr(void) {
  for (int c; (c = uart_getc()) >= 0;) console_input((uint8_t)c);
}
