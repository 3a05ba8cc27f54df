/**
 * ns16550a UART driven as Linux's 8250 driver and OpenSBI drive it:
 * transmit, receive through the FIFO, the IIR priorities, the THRE
 * interrupt rules (including the startup test in serial8250_do_startup),
 * FCR, DLAB, loopback and modem status; then a guest on a hart printing by
 * polling LSR and echoing input from a PLIC interrupt in M- and S-mode.
 */
import { describe, expect, it } from "vitest";
import { Uart16550 } from "../src/index.js";
import { guest, probe } from "./helpers.js";

const RBR = 0;
const THR = 0;
const IER = 1;
const IIR = 2;
const FCR = 2;
const LCR = 3;
const MCR = 4;
const LSR = 5;
const MSR = 6;
const SCR = 7;

function setup(fifoSize?: number) {
  const out: number[] = [];
  const irq = probe();
  const uart = new Uart16550({
    onTransmit: (b) => out.push(b),
    irq: irq.line,
    ...(fifoSize !== undefined ? { fifoSize } : {}),
  });
  const rd = (r: number) => uart.read(r, 1);
  const wr = (r: number, v: number) => uart.write(r, 1, v, 0);
  return { uart, out, irq, rd, wr };
}

describe("16550 registers", () => {
  it("THR bytes go to the sink; LSR always shows THRE and TEMT", () => {
    const { out, rd, wr, uart } = setup();
    expect(rd(LSR)).toBe(0x60);
    for (const c of "hi\n") wr(THR, c.charCodeAt(0));
    expect(String.fromCharCode(...out)).toBe("hi\n");
    expect(rd(LSR)).toBe(0x60);
    expect(uart.bytesOut).toBe(3);
  });

  it("received bytes set LSR.DR and come out of RBR in order", () => {
    const { uart, rd, wr } = setup();
    wr(FCR, 0x01);
    expect(uart.receive([0x41, 0x42, 0x43])).toBe(3);
    expect(rd(LSR) & 1).toBe(1);
    expect([rd(RBR), rd(RBR), rd(RBR)]).toEqual([0x41, 0x42, 0x43]);
    expect(rd(LSR) & 1).toBe(0);
    expect(rd(RBR)).toBe(0); // empty
    expect(uart.bytesIn).toBe(3);
  });

  it("RX overflow: the FIFO keeps its 16 bytes, the rest are counted and LSR.OE is set until LSR is read", () => {
    const { uart, rd, wr, irq } = setup();
    wr(FCR, 0x01);
    wr(IER, 0x04); // ELSI
    expect(uart.rxSpace()).toBe(16);
    expect(uart.receive(Array.from({ length: 20 }, (_, i) => i))).toBe(16);
    expect(uart.overruns).toBe(4);
    expect(irq.level).toBe(true);
    expect(rd(IIR)).toBe(0xc6); // receiver line status
    expect(rd(LSR)).toBe(0x63); // DR | OE | THRE | TEMT
    expect(rd(LSR)).toBe(0x61); // OE cleared by the read
    expect(irq.level).toBe(false);
    const got = Array.from({ length: 16 }, () => rd(RBR));
    expect(got).toEqual(Array.from({ length: 16 }, (_, i) => i));
  });

  it("without FIFOs there is one holding register: a second byte overruns and replaces it", () => {
    const { uart, rd } = setup();
    expect(uart.rxSpace()).toBe(1);
    expect(uart.receive([1, 2])).toBe(1);
    expect(rd(LSR) & 3).toBe(3);
    expect(rd(RBR)).toBe(2);
  });

  it("received-data interrupt: IIR 0x4 at the trigger level, the timeout code 0xC below it", () => {
    const { uart, rd, wr, irq } = setup();
    wr(FCR, 0x81); // FIFO on, trigger 8 (what Linux sets for a 16550A)
    wr(IER, 0x01);
    expect(irq.level).toBe(false);
    expect(rd(IIR)).toBe(0xc1); // no interrupt, FIFOs enabled
    uart.receive([1, 2, 3]);
    expect(irq.level).toBe(true);
    expect(rd(IIR)).toBe(0xcc);
    uart.receive([4, 5, 6, 7, 8]);
    expect(rd(IIR)).toBe(0xc4);
    for (let i = 0; i < 8; i++) rd(RBR);
    expect(irq.level).toBe(false);
    expect(rd(IIR)).toBe(0xc1);
  });

  it("THRE interrupt: armed by an IER write, cleared by the IIR read reporting it or by IER, re-armed by THR writes", () => {
    const { rd, wr, irq } = setup();
    wr(IER, 0x02);
    expect(irq.level).toBe(true);
    expect(rd(IIR)).toBe(0x02);
    expect(irq.level).toBe(false);
    expect(rd(IIR)).toBe(0x01); // the read cleared it
    wr(THR, 0x55);
    expect(irq.level).toBe(true); // THR emptied again at once
    wr(IER, 0x00);
    expect(irq.level).toBe(false);
    wr(IER, 0x02);
    expect(rd(IIR)).toBe(0x02);
  });

  it("passes serial8250_do_startup's THRE test (so Linux does not set UART_BUG_THRE)", () => {
    const { rd, wr } = setup();
    // Order as in drivers/tty/serial/8250/8250_port.c: IER=THRI, read IIR, IER=0, IER=THRI, read IIR.
    wr(IER, 0x02);
    const iir1 = rd(IIR);
    wr(IER, 0);
    wr(IER, 0x02);
    const iir = rd(IIR);
    wr(IER, 0);
    const lsr = rd(LSR);
    expect(iir1 & 1).toBe(0);
    expect(lsr & 0x40 && iir & 1).toBeFalsy();
  });

  it("IIR reports the highest-priority interrupt: line status, data, THRE, modem status", () => {
    const { uart, rd, wr } = setup();
    wr(FCR, 0x01);
    wr(IER, 0x0f);
    wr(MCR, 0x10); // loopback: MSR inputs change, setting delta bits
    uart.receive(new Array(17).fill(0x30)); // data + overrun
    expect(rd(IIR) & 0x0f).toBe(0x06);
    rd(LSR);
    expect(rd(IIR) & 0x0f).toBe(0x04);
    for (let i = 0; i < 16; i++) rd(RBR);
    expect(rd(IIR) & 0x0f).toBe(0x02); // reading it clears THRE
    expect(rd(IIR) & 0x0f).toBe(0x00); // modem status
    rd(MSR);
    expect(rd(IIR) & 0x0f).toBe(0x01);
  });

  it("FCR: switching the FIFO mode or bit 1 clears the RX FIFO; IIR bits 7:6 show the mode", () => {
    const { uart, rd, wr } = setup();
    wr(FCR, 0x01);
    uart.receive([1, 2, 3]);
    wr(FCR, 0x03);
    expect(rd(LSR) & 1).toBe(0);
    uart.receive([1]);
    wr(FCR, 0x00);
    expect(rd(LSR) & 1).toBe(0);
    expect(rd(IIR) & 0xc0).toBe(0);
  });

  it("DLAB exposes the divisor latch at offsets 0 and 1; LCR and SCR read back", () => {
    const { rd, wr, out } = setup();
    wr(IER, 0x05);
    wr(LCR, 0x83);
    wr(0, 0x01);
    wr(1, 0x00);
    expect([rd(0), rd(1)]).toEqual([1, 0]);
    wr(LCR, 0x03);
    expect(rd(IER)).toBe(0x05);
    expect(rd(LCR)).toBe(0x03);
    wr(SCR, 0xa5);
    expect(rd(SCR)).toBe(0xa5);
    expect(out).toEqual([]); // the divisor write did not transmit
  });

  it("loopback: TX comes back as RX and MCR drives MSR (autoconfig's loopback test reads 0x90)", () => {
    const { rd, wr, out } = setup();
    wr(MCR, 0x10 | 0x0a); // LOOP | RTS | OUT2
    expect(rd(MSR) & 0xf0).toBe(0x90); // CTS | DCD
    wr(THR, 0x7e);
    expect(out).toEqual([]);
    expect(rd(RBR)).toBe(0x7e);
    wr(MCR, 0x00);
    expect(rd(MSR)).toBe(0xb0 | 0x02); // idle inputs; DSR changed
  });

  it("only 1-byte accesses to offsets 0..7 are registers", () => {
    const { uart } = setup();
    expect(uart.read(0, 4)).toBe(0);
    expect(uart.read(8, 1)).toBe(0);
    uart.write(0, 2, 0x41, 0);
    uart.write(0xff, 1, 0x41, 0);
    expect(uart.badAccesses).toBe(4);
    expect(uart.bytesOut).toBe(0);
  });

  it("state round-trips with the FIFO contents", () => {
    const a = setup();
    a.wr(FCR, 0xc1);
    a.wr(IER, 0x01);
    a.uart.receive([9, 8, 7]);
    const st = a.uart.getState();
    expect(JSON.parse(JSON.stringify(st))).toEqual(st);
    const b = setup();
    b.uart.setState(st);
    expect(b.irq.level).toBe(true);
    expect([b.rd(RBR), b.rd(RBR), b.rd(RBR)]).toEqual([9, 8, 7]);
    expect(() => b.uart.setState({ ...st, rx: new Array(17).fill(0) })).toThrow(/FIFO/);
    expect(() => b.uart.setState({ ...st, ier: 0x10 })).toThrow(/ier/);
  });
});

const POWEROFF = `
poweroff:
  li t0, 0x100000
  li t1, 0x5555
  sw t1, 0(t0)
9: j 9b
`;

describe("a guest on the hart", () => {
  it("prints by polling LSR.THRE", () => {
    const g = guest(`
_start:
  li s0, 0x10000000
  la s1, msg
1: lbu t0, 0(s1)
  beqz t0, poweroff
2: lbu t1, 5(s0)
  andi t1, t1, 0x20
  beqz t1, 2b
  sb t0, 0(s0)
  addi s1, s1, 1
  j 1b
${POWEROFF}
msg: .asciz "hello from the virt board\\n"
`);
    expect(g.run().reason).toBe("poweroff");
    expect(g.output).toBe("hello from the virt board\n");
  });

  const echo = (mode: "M" | "S") => `
_start:
  li s0, 0x10000000
  li t0, 1
  sb t0, 2(s0)          # FCR: FIFO on
  sb t0, 1(s0)          # IER: received data
  li s2, 0x0c000000
  sw t0, 40(s2)         # priority[10] = 1
  li t0, 1 << 10
  li t1, ${mode === "M" ? "0x0c002000" : "0x0c002080"}
  sw t0, 0(t1)          # enable source 10 in context ${mode === "M" ? 0 : 1}
  li s3, ${mode === "M" ? "0x0c200004" : "0x0c201004"}
  sw zero, -4(s3)       # threshold 0
${
  mode === "M"
    ? `  la t0, trap
  csrw mtvec, t0
  li t0, 1 << 11
  csrs mie, t0          # MEIE
  csrsi mstatus, 8
idle:
  wfi
  j idle`
    : `  li t0, 1 << 30
  csrw pmpaddr0, t0
  li t0, 0x0f
  csrw pmpcfg0, t0      # PMP: TOR [0, 4 GiB) RWX for S-mode
  la t0, trap
  csrw stvec, t0
  li t0, 1 << 9
  csrs mideleg, t0      # delegate SEI
  csrs mie, t0          # SEIE
  li t0, 3 << 11
  csrc mstatus, t0
  li t0, 1 << 11
  csrs mstatus, t0      # MPP = S
  la t0, smain
  csrw mepc, t0
  mret
smain:
  csrsi sstatus, 2      # SIE
idle:
  wfi
  j idle`
}

trap:
  lw s4, 0(s3)          # claim
1: lbu t0, 5(s0)
  andi t0, t0, 1
  beqz t0, 2f
  lbu t1, 0(s0)
  li t2, 0x71           # 'q'
  beq t1, t2, poweroff
  addi t1, t1, -32      # to upper case
  sb t1, 0(s0)
  j 1b
2: sw s4, 0(s3)         # complete
  ${mode === "M" ? "mret" : "sret"}
${POWEROFF}
`;

  for (const mode of ["M", "S"] as const) {
    it(`echoes input from the UART interrupt through PLIC context ${mode === "M" ? "0 (MEIP)" : "1 (SEIP)"}`, () => {
      const g = guest(echo(mode));
      expect(g.run().reason).toBe("idle"); // waiting for input
      g.board.uart.receive([0x61, 0x62, 0x63]);
      expect(g.run().reason).toBe("idle");
      expect(g.output).toBe("ABC");
      g.board.uart.receive([0x78]);
      g.run();
      expect(g.output).toBe("ABCX");
      g.board.uart.receive([0x71]);
      expect(g.run().reason).toBe("poweroff");
      const c = g.board.counters();
      expect(c.plic.claims).toBe(3);
      expect(c.uart).toEqual({ bytesIn: 5, bytesOut: 4, overruns: 0 });
    });
  }
});
