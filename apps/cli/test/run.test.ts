import { assembleElf } from "@hvkit/isa";
import { describe, expect, it } from "vitest";
import { main, type RunStats } from "../src/main.js";
import { memoryIo } from "./helpers.js";

const argv = (...args: string[]) => ["node", "hvkit", ...args];

/**
 * A self-checking bare-metal program: computes fib(20) iteratively, prints a
 * line through the HTIF SYS_write syscall block, and reports 0 through tohost
 * when the result is 6765, else (case << 1) | 1.
 */
function program(expected: number): Uint8Array {
  return assembleElf(`
.globl _start
_start:
  li a0, 0
  li a1, 1
  li t0, 20
1:
  add a2, a0, a1
  mv a0, a1
  mv a1, a2
  addi t0, t0, -1
  bnez t0, 1b
  # print "fib ok\\n" with SYS_write(1, msg, 7)
  la t1, sysblock
  li t2, 64
  sd t2, 0(t1)
  li t2, 1
  sd t2, 8(t1)
  la t2, msg
  sd t2, 16(t1)
  li t2, 7
  sd t2, 24(t1)
  la t3, tohost
  sd t1, 0(t3)
  li t4, ${expected}
  li t5, 7
  bne a0, t4, fail
  li t5, 1
fail:
  sd t5, 0(t3)
2: j 2b
.data
msg: .ascii "fib ok\\n"
.align 3
sysblock: .zero 64
.globl tohost
tohost: .dword 0
.globl fromhost
fromhost: .dword 0
`);
}

describe("hvkit run --bare", () => {
  it("runs a self-checking program, prints its output and exits with its tohost code", async () => {
    const io = memoryIo({ "fib.elf": program(6765) });
    const code = await main(argv("run", "--bare", "fib.elf", "--stats", "--stats-json", "stats.json"), io);
    expect(io.out).toBe("fib ok\n");
    expect(code).toBe(0);
    expect(io.err).toMatch(/exit code 0, \d+ instructions, \d+ steps, [\d.]+ s, [\d.]+ MIPS/);
    const stats = JSON.parse(new TextDecoder().decode(io.files.get("stats.json"))) as RunStats;
    expect(stats).toMatchObject({ schema: "hvkit.run-stats/1", machine: "bare", exitCode: 0, stop: "exit" });
    // 3 + 20*5 + 23 instructions up to and including the tohost store: deterministic.
    expect(stats.instructions).toBeGreaterThan(100);
    expect(stats.steps).toBe(stats.instructions);
  });

  it("exits with the failing case number when the program's check fails", async () => {
    const io = memoryIo({ "bad.elf": program(1234) });
    expect(await main(argv("run", "--bare", "bad.elf"), io)).toBe(3);
  });

  it("reports a program that never finishes with a typed error", async () => {
    const io = memoryIo({ "spin.elf": assembleElf("_start: j _start\n.data\ntohost: .dword 0\n") });
    expect(await main(argv("run", "--bare", "spin.elf", "--max-steps", "1000"), io)).toBe(1);
    expect(io.err).toMatch(/^hvkit: CLI_GUEST_DID_NOT_FINISH: .*1000 steps/);
  });

  it("rejects a non-RISC-V file and bad option values", async () => {
    const io = memoryIo({ "x.elf": "not an elf" });
    expect(await main(argv("run", "--bare", "x.elf"), io)).toBe(1);
    expect(io.err).toMatch(/^hvkit: ISA_ELF_MALFORMED:/);
    const io2 = memoryIo({});
    expect(await main(argv("run", "--bare", "x.elf", "--memory", "3K"), io2)).toBe(2);
    expect(io2.err).toMatch(/--memory/);
    const io3 = memoryIo({});
    expect(await main(argv("run", "--bare", "x.elf", "--bogus"), io3)).toBe(2);
    expect(io3.err).toMatch(/unknown option '--bogus'/);
  });
});
