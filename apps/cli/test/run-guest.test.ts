import { readFileSync } from "node:fs";
import { registerStrategy, type StrategyDefinition } from "@hvkit/hypervisor";
import { describe, expect, it } from "vitest";
import { type GuestRunStats, main } from "../src/main.js";
import {
  ebreakGuest,
  echoGuest,
  finisherGuest,
  helloGuest,
  idleGuest,
  rebootGuest,
  spinGuest,
} from "./guests.js";
import { argv, fakeTerminal, memoryIo } from "./helpers.js";

const PRV_S = 1;
const CAUSE_BREAKPOINT = 3;

/** A strategy that asks for an exit on ebreak in S-mode and then cannot handle it. */
const faulting: StrategyDefinition = {
  name: "test-faulting",
  description: "test only: exits on ebreak and gives up",
  techniques: { cpu: "trap-and-emulate", memory: "native", io: ["emulated"] },
  create(core) {
    return {
      start() {
        core.hart.exitOnException[PRV_S]! |= 1 << CAUSE_BREAKPOINT;
      },
      handleExit: () => false,
    };
  },
};

/** A strategy with a bug: it throws on the exit it asked for. */
const throwing: StrategyDefinition = {
  ...faulting,
  name: "test-throwing",
  create(core) {
    return {
      start() {
        core.hart.exitOnException[PRV_S]! |= 1 << CAUSE_BREAKPOINT;
      },
      handleExit: () => {
        throw new Error("strategy bug");
      },
    };
  },
};
registerStrategy(faulting);
registerStrategy(throwing);

const json = (bytes: Uint8Array | undefined): GuestRunStats =>
  JSON.parse(new TextDecoder().decode(bytes)) as GuestRunStats;

describe("hvkit run --kernel: a tiny S-mode guest on the built-in firmware", () => {
  it("prints what the guest writes and exits with 0 when it powers off cleanly", async () => {
    const io = memoryIo({ "hello.elf": helloGuest("hello from S-mode\n") });
    const code = await main(argv("run", "--kernel", "hello.elf", "--memory", "64M"), io);
    expect(io.out).toBe("hello from S-mode\n!\n");
    expect(io.err).toBe("");
    expect(code).toBe(0);
  });

  it("exits with 1 when the guest powers off reporting a system failure (SRST reason 1)", async () => {
    const io = memoryIo({ "fail.elf": helloGuest("failing\n", 1) });
    expect(await main(argv("run", "--kernel", "fail.elf", "--memory", "64M"), io)).toBe(1);
    expect(io.out).toBe("failing\n!\n");
    expect(io.err).toBe("");
  });

  it("passes the test finisher's failure code through, 8 bits, never turning a failure into 0", async () => {
    for (const [value, code, status] of [
      [0x5555, 0, 0],
      [(5 << 16) | 0x3333, 5, 5],
      [(0x1ff << 16) | 0x3333, 255, 0x1ff],
      [(0x100 << 16) | 0x3333, 1, 0x100],
      [0x3333, 1, 1],
    ] as const) {
      const io = memoryIo({ "f.elf": finisherGuest(value) });
      expect(
        await main(argv("run", "--kernel", "f.elf", "--memory", "64M", "--stats-json", "s.json"), io),
      ).toBe(code);
      expect(json(io.files.get("s.json")).exit).toEqual({ stop: "poweroff", code, exitStatus: status });
    }
  });

  it("stops a guest that asks for a reset, with exit code 0 and a note", async () => {
    for (const guest of [rebootGuest(), finisherGuest(0x7777)]) {
      const io = memoryIo({ "r.elf": guest });
      expect(await main(argv("run", "--kernel", "r.elf", "--memory", "64M"), io)).toBe(0);
      expect(io.err).toBe(
        "hvkit: the guest asked for a reset; hvkit stops instead of rebooting it (exit code 0)\n",
      );
    }
  });

  it("prints --stats and writes --stats-json with the exit", async () => {
    const io = memoryIo({ "hello.elf": helloGuest("hi\n") });
    const code = await main(
      argv(
        "run",
        "--kernel",
        "hello.elf",
        "--strategy",
        "emulation",
        "--memory",
        "64M",
        "--cost-profile",
        "p4-2006",
        "--stats",
        "--stats-json",
        "s.json",
      ),
      io,
    );
    expect(code).toBe(0);
    expect(io.err).toMatch(
      /^hvkit: emulation \(cpu emulation, memory native, io emulated\+virtio\+passthrough\): poweroff, exit status 0, exit code 0\n/,
    );
    expect(io.err).toMatch(/\n {2}instructions {2}\d+ {2}\(S \d+ 100\.0%\)\n/);
    expect(io.err).toMatch(/\n {2}exits {9}4 {2}\(sbi 4\)\n/);
    expect(io.err).toMatch(/\n {2}hypercalls {4}4 {2}\(legacy\.console_putchar 2, /);
    expect(io.err).toMatch(/\n {2}cycles {8}[\d,]+ modeled, profile p4-2006 /);
    expect(io.err).toMatch(/\n {2}wall {10}[\d.]+ s, [\d.]+ MIPS\n$/);
    const stats = json(io.files.get("s.json"));
    expect(stats).toMatchObject({
      schema: "hvkit.vm-stats/1",
      strategy: "emulation",
      exit: { stop: "poweroff", exitStatus: 0, code: 0 },
      exits: { total: 4, byReason: { sbi: 4 } },
      hypercalls: { total: 4 },
      cycles: { profile: "p4-2006" },
    });
    expect(stats.instructions.byMode.S).toBe(stats.instructions.total);
  });

  it("reports a guest fault as HV_GUEST_FAULT with exit code 1", async () => {
    const io = memoryIo({ "bp.elf": ebreakGuest() });
    const code = await main(
      argv(
        "run",
        "--kernel",
        "bp.elf",
        "--strategy",
        "test-faulting",
        "--memory",
        "64M",
        "--stats-json",
        "s.json",
      ),
      io,
    );
    expect(code).toBe(1);
    expect(io.err).toMatch(
      /^hvkit: HV_GUEST_FAULT: the test-faulting strategy did not handle exception 3 at pc 0x80200000 /,
    );
    expect(json(io.files.get("s.json")).exit).toMatchObject({ stop: "fault", code: 1 });
  });

  it("stops a guest that outruns --max-steps with CLI_STEP_LIMIT", async () => {
    const io = memoryIo({ "spin.elf": spinGuest() });
    const code = await main(
      argv("run", "--kernel", "spin.elf", "--memory", "64M", "--max-steps", "1e5", "--stats-json", "s.json"),
      io,
    );
    expect(code).toBe(1);
    expect(io.err).toMatch(
      /^hvkit: CLI_STEP_LIMIT: the guest did not power off within --max-steps 100000 steps/,
    );
    const stats = json(io.files.get("s.json"));
    expect(stats.exit).toMatchObject({ stop: "limit", code: 1 });
    expect(stats.steps).toBe(100_000);
  });

  it("stops a guest that waits for input no one can send (CLI_GUEST_IDLE) instead of spinning", async () => {
    const io = memoryIo({ "idle.elf": idleGuest() });
    expect(await main(argv("run", "--kernel", "idle.elf", "--memory", "64M"), io)).toBe(1);
    expect(io.err).toMatch(/^hvkit: CLI_GUEST_IDLE: the guest waits for console input/);
  });
});

describe("hvkit run --kernel: the console", () => {
  it("feeds piped input to the guest (not a TTY: no raw mode, no escape keys, no hint)", async () => {
    const io = memoryIo({ "echo.elf": echoGuest() });
    // Ctrl-A x means nothing on a pipe: it reaches the guest.
    io.terminal = fakeTerminal(false, (e) => e.data(new TextEncoder().encode("ping\x01x\n")));
    expect(await main(argv("run", "--kernel", "echo.elf", "--memory", "64M"), io)).toBe(0);
    expect(io.out).toBe("ping\x01x\n");
    expect(io.err).toBe("");
  });

  it("stops an idle guest once piped input has ended", async () => {
    const io = memoryIo({ "idle.elf": idleGuest() });
    const t = fakeTerminal(false, (e) => e.end());
    io.terminal = t;
    expect(await main(argv("run", "--kernel", "idle.elf", "--memory", "64M"), io)).toBe(1);
    expect(io.err).toMatch(/^hvkit: CLI_GUEST_IDLE: .*standard input has ended/);
    expect(t.detached).toBe(1);
  });

  it("on a TTY, prints the hint, waits while the guest is idle and quits on Ctrl-A x", async () => {
    const io = memoryIo({ "idle.elf": idleGuest() });
    // The keys come while the guest already waits: the loop must be waiting for them, not spinning.
    const t = fakeTerminal(true, (e) => setTimeout(() => e.data(Uint8Array.of(0x01, 0x78)), 50));
    io.terminal = t;
    expect(
      await main(argv("run", "--kernel", "idle.elf", "--memory", "64M", "--stats-json", "s.json"), io),
    ).toBe(0);
    expect(io.err).toBe("hvkit: Ctrl-A x to quit, Ctrl-A h for help\nhvkit: quit (Ctrl-A x)\n");
    expect(t.attached).toBe(1);
    expect(t.detached).toBe(1);
    expect(json(io.files.get("s.json")).exit).toEqual({ stop: "quit", code: 0 });
  });

  it("on a TTY, forwards keys and Ctrl-A Ctrl-A as one Ctrl-A", async () => {
    const io = memoryIo({ "echo.elf": echoGuest() });
    io.terminal = fakeTerminal(true, (e) => {
      e.data(Uint8Array.of(0x6f, 0x01)); // "o", then a Ctrl-A split from its second key
      e.data(Uint8Array.of(0x01, 0x6b, 0x0a)); // Ctrl-A (literal), "k", newline
    });
    expect(await main(argv("run", "--kernel", "echo.elf", "--memory", "64M"), io)).toBe(0);
    expect(io.out).toBe("o\x01k\n");
  });

  it("stops on SIGINT with 130 and restores the terminal", async () => {
    const io = memoryIo({ "spin.elf": spinGuest() });
    const t = fakeTerminal(true, (e) => e.signal("SIGINT"));
    io.terminal = t;
    expect(await main(argv("run", "--kernel", "spin.elf", "--memory", "64M"), io)).toBe(130);
    expect(io.err).toMatch(/hvkit: stopped by SIGINT\n$/);
    expect(t.detached).toBe(1);
  });

  it("restores the terminal when hvkit itself fails mid-run", async () => {
    const io = memoryIo({ "bp.elf": ebreakGuest() });
    const t = fakeTerminal(true);
    io.terminal = t;
    expect(
      await main(argv("run", "--kernel", "bp.elf", "--strategy", "test-throwing", "--memory", "64M"), io),
    ).toBe(1);
    expect(io.err).toMatch(/hvkit: internal error \(please report it\): Error: strategy bug/);
    expect(t.attached).toBe(1);
    expect(t.detached).toBe(1);
  });
});

describe("hvkit run --kernel: errors say what is wrong and what to do", () => {
  it("names a missing kernel, initrd or firmware (ENOENT)", async () => {
    let io = memoryIo();
    expect(await main(argv("run", "--kernel", "nope.img"), io)).toBe(1);
    expect(io.err).toBe("hvkit: ENOENT: nope.img: no such file or directory\n");
    io = memoryIo({ "k.elf": helloGuest("x") });
    expect(await main(argv("run", "--kernel", "k.elf", "--initrd", "nope.cpio.gz"), io)).toBe(1);
    expect(io.err).toBe("hvkit: ENOENT: nope.cpio.gz: no such file or directory\n");
    io = memoryIo({ "k.elf": helloGuest("x") });
    expect(await main(argv("run", "--kernel", "k.elf", "--firmware", "fw.bin"), io)).toBe(1);
    expect(io.err).toBe("hvkit: ENOENT: fw.bin: no such file or directory\n");
  });

  it("rejects a file that is no kernel at all", async () => {
    const random = new Uint8Array(4096);
    let seed = 12345;
    for (let i = 0; i < random.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      random[i] = seed >>> 24;
    }
    const io = memoryIo({ "random.bin": random });
    expect(await main(argv("run", "--kernel", "random.bin"), io)).toBe(1);
    expect(io.err).toMatch(
      /^hvkit: MACHINE_IMAGE_MALFORMED: not a RISC-V Linux Image: .*pass arch\/riscv\/boot\/Image/,
    );
  });

  it("rejects a kernel for another architecture (this host's /bin/true)", async () => {
    const io = memoryIo({ true: new Uint8Array(readFileSync("/bin/true")) });
    expect(await main(argv("run", "--kernel", "true"), io)).toBe(1);
    expect(io.err).toMatch(/^hvkit: MACHINE_NOT_RISCV: .*is for \S+, not RISC-V; build it for riscv64\n$/);
  });

  it("rejects a truncated Linux Image", async () => {
    // An EFI-stub RISC-V Image header whose section table needs 1 MiB; the file has 4 KiB.
    const image = new Uint8Array(4096);
    const v = new DataView(image.buffer);
    image.set([0x4d, 0x5a]); // "MZ"
    v.setBigUint64(8, 0x200000n, true); // text_offset
    v.setBigUint64(16, 0x200000n, true); // image_size
    v.setUint32(32, 2, true); // header version 0.2
    image.set(new TextEncoder().encode("RISCV\0\0\0"), 48);
    v.setUint32(56, 0x05435352, true); // "RSC\x05"
    v.setUint32(60, 0x40, true); // PE header offset
    v.setUint32(0x40, 0x00004550, true); // "PE\0\0"
    v.setUint16(0x44, 0x5064, true); // RISC-V 64
    v.setUint16(0x46, 1, true); // one section
    v.setUint16(0x54, 0, true); // no optional header
    const section = 0x40 + 24;
    image.set(new TextEncoder().encode(".text"), section);
    v.setUint32(section + 16, 0x100000 - 0x1000, true); // SizeOfRawData
    v.setUint32(section + 20, 0x1000, true); // PointerToRawData
    const io = memoryIo({ "Image.part": image, "Image.tiny": image.subarray(0, 40) });
    expect(await main(argv("run", "--kernel", "Image.part"), io)).toBe(1);
    expect(io.err).toBe(
      "hvkit: CLI_KERNEL_TRUNCATED: Image.part: the Linux Image is truncated: its section table needs 1048576 bytes, the file has 4096; copy the kernel again (compare its size and checksum with the original)\n",
    );
    const io2 = memoryIo({ "Image.tiny": image.subarray(0, 40) });
    expect(await main(argv("run", "--kernel", "Image.tiny"), io2)).toBe(1);
    expect(io2.err).toMatch(
      /^hvkit: MACHINE_IMAGE_MALFORMED: a RISC-V Linux Image starts with a 64-byte header; .*truncated/,
    );
  });

  it("rejects a bad --memory with the usage (exit 2)", async () => {
    for (const [value, message] of [
      ["lots", /--memory.*expected a size such as 64M or 1G/],
      ["3G", /--memory.*at most 2G/],
      ["3M", /--memory.*3145728 bytes; with --kernel it must be a multiple of 2M from 16M to 2G/],
      ["8M", /--memory.*8388608 bytes; with --kernel it must be a multiple of 2M from 16M to 2G/],
    ] as const) {
      const io = memoryIo({ "k.elf": helloGuest("x") });
      expect(await main(argv("run", "--kernel", "k.elf", "--memory", value), io)).toBe(2);
      expect(io.err).toMatch(message);
      expect(io.err).toContain("Usage: hvkit run [options]");
    }
  });

  it("names the known strategies when --strategy is unknown", async () => {
    const io = memoryIo({ "k.elf": helloGuest("x") });
    expect(await main(argv("run", "--kernel", "k.elf", "--strategy", "magic"), io)).toBe(1);
    expect(io.err).toMatch(
      /^hvkit: HV_UNKNOWN_STRATEGY: unknown strategy "magic"; known strategies: .*emulation/,
    );
  });

  it("checks --cost-profile and --max-steps", async () => {
    let io = memoryIo();
    expect(await main(argv("run", "--kernel", "k.elf", "--cost-profile", "cray-1"), io)).toBe(2);
    expect(io.err).toMatch(/argument 'cray-1' is invalid\. Allowed choices are p4-2006, modern/);
    io = memoryIo();
    expect(await main(argv("run", "--kernel", "k.elf", "--max-steps", "1.5"), io)).toBe(2);
    expect(io.err).toMatch(/--max-steps.*expected a positive whole number/);
  });

  it("names unknown flags", async () => {
    const io = memoryIo();
    expect(await main(argv("run", "--kernel", "k.elf", "--bogus"), io)).toBe(2);
    expect(io.err).toMatch(/^hvkit: unknown option '--bogus'/);
  });

  it("refuses --bare with --kernel, and kernel options with --bare", async () => {
    let io = memoryIo();
    expect(await main(argv("run", "--bare", "a.elf", "--kernel", "k.elf"), io)).toBe(2);
    expect(io.err).toMatch(/^hvkit: option '--kernel <file>' cannot be used with option '--bare <file>'/);
    expect(io.err).toContain("Usage: hvkit run [options]");
    io = memoryIo();
    expect(await main(argv("run", "--bare", "a.elf", "--initrd", "i.cpio"), io)).toBe(2);
    expect(io.err).toMatch(/^hvkit: option '--initrd <file>' cannot be used with option '--bare <file>'/);
  });

  it("wants --kernel or --bare", async () => {
    const io = memoryIo();
    expect(await main(argv("run", "--append", "console=ttyS0"), io)).toBe(2);
    expect(io.err).toMatch(/^hvkit: run needs --kernel <file> .* or --bare <file>/);
  });
});

describe("the strategy registry", () => {
  it("is listed by hvkit strategies and hvkit run --list-strategies", async () => {
    const a = memoryIo();
    expect(await main(argv("strategies"), a)).toBe(0);
    expect(a.out).toMatch(
      /^emulation +cpu emulation, memory native, io emulated\+virtio\+passthrough: full emulation/m,
    );
    const b = memoryIo();
    expect(await main(argv("run", "--list-strategies"), b)).toBe(0);
    expect(b.out).toBe(a.out);
  });
});
