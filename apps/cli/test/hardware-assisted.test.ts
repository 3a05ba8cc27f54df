/**
 * The hardware-assisted strategies from the command line: listed by
 * `hvkit strategies`, run with `--strategy`, and `--exit-on` adding guest
 * exits (the guest sees no difference; the statistics show the exits), or
 * refused where it makes no sense.
 */
import { assembleElf } from "@hvkit/isa";
import { describe, expect, it } from "vitest";
import { type GuestRunStats, main } from "../src/main.js";
import { helloGuest } from "./guests.js";
import { argv, memoryIo } from "./helpers.js";

/** Reads sstatus, writes sscratch, then prints "csr\n" and powers off. */
const csrGuest = (): Uint8Array =>
  assembleElf(
    `
.globl _start
_start:
  csrr t0, sstatus
  li t1, 42
  csrw sscratch, t1
  csrr t2, sscratch
  li t3, 42
  bne t2, t3, 1f
  la a1, msg
  li a0, 4
  li a2, 0
  li a6, 0
  li a7, 0x4442434E
  ecall
1:
  li a0, 0
  li a1, 0
  li a6, 0
  li a7, 0x53525354
  ecall
2: j 2b
.data
msg: .ascii "csr\\n"
`,
    { base: 0x80200000n, fileName: "csr.s" },
  );

const json = (bytes: Uint8Array | undefined): GuestRunStats =>
  JSON.parse(new TextDecoder().decode(bytes)) as GuestRunStats;

describe("hardware-assisted strategies in the CLI", () => {
  it("are listed with what they compose", async () => {
    const io = memoryIo();
    expect(await main(argv("strategies"), io)).toBe(0);
    expect(io.out).toMatch(
      /^hardware-assisted +cpu hardware-assisted, memory nested-paging, io emulated\+virtio\+passthrough: /m,
    );
    expect(io.out).toMatch(/^hardware-assisted\+shadow +cpu hardware-assisted, memory shadow-paging, /m);
    expect(io.out).toMatch(/^hardware-assisted\+shadow\+wp +cpu hardware-assisted, memory shadow-paging, /m);
  });

  for (const strategy of ["hardware-assisted", "hardware-assisted+shadow", "hardware-assisted+shadow+wp"]) {
    it(`${strategy} runs a guest as emulation does`, async () => {
      const io = memoryIo({ "hello.elf": helloGuest("hello\n") });
      expect(
        await main(argv("run", "--kernel", "hello.elf", "--memory", "64M", "--strategy", strategy), io),
      ).toBe(0);
      expect(io.out).toBe("hello\n!\n");
    });
  }

  it("--exit-on adds exits the statistics show, and the guest does not notice", async () => {
    const plain = memoryIo({ "csr.elf": csrGuest() });
    const args = ["run", "--kernel", "csr.elf", "--memory", "64M", "--strategy", "hardware-assisted"];
    expect(await main(argv(...args, "--stats-json", "s.json"), plain)).toBe(0);
    expect(plain.out).toBe("csr\n");
    expect(json(plain.files.get("s.json")).exits.byReason.csr).toBeUndefined();

    const io = memoryIo({ "csr.elf": csrGuest() });
    const code = await main(
      argv(...args, "--exit-on", "csr=sstatus,sscratch", "--exit-on", "wfi,sret", "--stats-json", "s.json"),
      io,
    );
    expect(code).toBe(0);
    expect(io.out).toBe("csr\n");
    const s = json(io.files.get("s.json"));
    expect(s.exits.byReason.csr).toBe(3);
    expect(s.counters["csr.sstatus.read"]).toBe(1);
    expect(s.counters["csr.sscratch.write"]).toBe(1);
    expect(s.counters["csr.sscratch.read"]).toBe(1);
    // Step for step with the run without extra exits.
    expect(s.steps).toBe(json(plain.files.get("s.json")).steps);
    expect(s.cycles.byCategory.vmExit).toBeGreaterThan(
      json(plain.files.get("s.json")).cycles.byCategory.vmExit!,
    );

    const all = memoryIo({ "csr.elf": csrGuest() });
    expect(await main(argv(...args, "--exit-on", "csr=all", "--stats-json", "s.json"), all)).toBe(0);
    expect(all.out).toBe("csr\n");
    expect(json(all.files.get("s.json")).exits.byReason.csr).toBe(3);
  });

  it("refuses --exit-on for a strategy without guest mode, and names a bad exit", async () => {
    const io = memoryIo({ "csr.elf": csrGuest() });
    expect(await main(argv("run", "--kernel", "csr.elf", "--exit-on", "csr=all"), io)).toBe(1);
    expect(io.err).toMatch(/^hvkit: HV_INVALID_COMBINATION: VmConfig.exitOn .* emulation strategy/);
    const bad = memoryIo({ "csr.elf": csrGuest() });
    expect(
      await main(
        argv("run", "--kernel", "csr.elf", "--strategy", "hardware-assisted", "--exit-on", "csr=nosuch"),
        bad,
      ),
    ).toBe(1);
    expect(bad.err).toMatch(/^hvkit: HV_INVALID_CONFIG: VmConfig.exitOn: csr "nosuch" is not a CSR/);
    const bare = memoryIo();
    expect(await main(argv("run", "--bare", "x.elf", "--exit-on", "wfi"), bare)).toBe(2);
    expect(bare.err).toMatch(/cannot be used with option '--bare <file>'/);
  });
});
