/**
 * hvkit's own guests for the hypervisor contract suite
 * (`@hvkit/hypervisor/testing`) and for benchmarks: hvkit-kernel, one guest
 * per workload, and the bare-metal programs, all from the committed images
 * in packages/guests/images. The objects are structurally `ContractGuest`s,
 * so this package does not depend on @hvkit/hypervisor.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { GuestsError } from "../errors.js";
import { HVKIT_WORKLOADS, hvkitBootargs, normalizeHvkitOutput } from "../hvkit-kernel.js";
import { GUEST_IMAGE_DIR, type GuestImageName } from "./build-images.js";

/** The path of a committed guest image. */
export function hvkitImagePath(name: GuestImageName): string {
  return join(GUEST_IMAGE_DIR, name);
}

/** The bytes of a committed guest image; GUESTS_MISSING_IMAGE when it is not there. */
export function readHvkitImage(name: GuestImageName): Uint8Array {
  const path = hvkitImagePath(name);
  if (!existsSync(path)) {
    throw new GuestsError(
      "GUESTS_MISSING_IMAGE",
      `no guest image at ${path}: restore packages/guests/images from git, or run \`pnpm guests:build\``,
    );
  }
  return readFileSync(path);
}

/** Workload sizes small enough for tests: each runs in well under a second under emulation. */
export const HVKIT_TEST_SIZES: Readonly<Record<string, number>> = {
  selftest: 1,
  syscall: 200,
  "mmio-read": 1000,
  "csr-write": 1000,
  "call-ret": 1000,
  pgfault: 64,
  trap: 200,
  ptemod: 200,
  forkwait: 200,
  compute: 1,
  ctxswitch: 200,
  io: 128,
  echo: 1,
};

/**
 * A generous step budget per operation (about 5x what each takes under
 * emulation), for the contract suite's maxSteps; boot and setup get a fixed
 * allowance on top.
 */
const STEPS_PER_OP: Readonly<Record<string, number>> = {
  selftest: 20_000_000,
  syscall: 1_000,
  "mmio-read": 100,
  "csr-write": 100,
  "call-ret": 100,
  pgfault: 40_000,
  trap: 1_500,
  ptemod: 150,
  forkwait: 150_000,
  compute: 15_000_000,
  ctxswitch: 25_000,
  io: 15_000,
  echo: 5_000_000,
};
const BASE_STEPS = 20_000_000;

/** The console input the echo workload gets, and the line it must print. */
export const HVKIT_ECHO_INPUT = "hello, hvkit\n";

/** Options of {@link hvkitKernelGuests}. */
export interface HvkitGuestOptions {
  /** Which kernel build (default "native"). */
  build?: "native" | "pv";
  /** Which workloads (default: every one, echo included). */
  workloads?: readonly string[];
  /** Sizes by workload (default {@link HVKIT_TEST_SIZES}). */
  sizes?: Readonly<Record<string, number>>;
  /** Guest RAM in bytes (default 64 MiB). */
  memory?: number;
  /** An OpenSBI image instead of the built-in SBI. */
  firmware?: Uint8Array;
}

/** What a ContractGuest's config() returns (structurally a VmConfig). */
export interface HvkitGuestConfig {
  kernel: Uint8Array;
  cmdline: string;
  memory: number;
  firmware?: Uint8Array;
}

/** A contract-suite guest (structurally `ContractGuest` from @hvkit/hypervisor/testing). */
export interface HvkitContractGuest {
  readonly name: string;
  config(): HvkitGuestConfig;
  readonly maxSteps: number;
  readonly input?: string;
  readonly expect: { readonly output: RegExp; readonly exitStatus: number };
  normalize(output: string): string;
}

const DEFAULT_MEMORY = 64 * 1024 * 1024;

function image(build: "native" | "pv"): GuestImageName {
  return build === "pv" ? "hvkit-kernel-pv.elf" : "hvkit-kernel.elf";
}

/**
 * hvkit-kernel as contract-suite guests, one per workload: each boots the
 * kernel with `workload=<name> n=<size>` and must end with `DONE status=0`
 * and exit status 0. normalize() drops the MEASURE lines, which differ
 * between strategies by design; everything else must match byte for byte.
 */
export function hvkitKernelGuests(options: HvkitGuestOptions = {}): HvkitContractGuest[] {
  const build = options.build ?? "native";
  const names = options.workloads ?? HVKIT_WORKLOADS.map((w) => w.name);
  const sizes = { ...HVKIT_TEST_SIZES, ...options.sizes };
  const memory = options.memory ?? DEFAULT_MEMORY;
  return names.map((name) => {
    const known = HVKIT_WORKLOADS.find((w) => w.name === name);
    if (!known) {
      throw new GuestsError(
        "GUESTS_BAD_OPTION",
        `unknown hvkit-kernel workload "${name}"; known: ${HVKIT_WORKLOADS.map((w) => w.name).join(", ")}`,
      );
    }
    const n = sizes[name] ?? known.defaultN;
    const cmdline = hvkitBootargs({ workloads: [name], n });
    return {
      name: `hvkit-kernel ${name} n=${n} (${build} build)`,
      maxSteps: BASE_STEPS + n * (STEPS_PER_OP[name] ?? 1_000_000),
      ...(name === "echo" ? { input: HVKIT_ECHO_INPUT } : {}),
      expect: { output: /^DONE status=0$/m, exitStatus: 0 },
      config: () => ({
        kernel: readHvkitImage(image(build)),
        cmdline,
        memory,
        ...(options.firmware ? { firmware: options.firmware } : {}),
      }),
      normalize: normalizeHvkitOutput,
    };
  });
}

/** The bare-metal programs as contract-suite guests: hello, and the self-checking bare-test. */
export function hvkitBareMetalGuests(options: Pick<HvkitGuestOptions, "memory" | "firmware"> = {}) {
  const memory = options.memory ?? DEFAULT_MEMORY;
  const guest = (name: GuestImageName, title: string, output: RegExp): HvkitContractGuest => ({
    name: title,
    maxSteps: 50_000_000,
    expect: { output, exitStatus: 0 },
    config: () => ({
      kernel: readHvkitImage(name),
      cmdline: "",
      memory,
      ...(options.firmware ? { firmware: options.firmware } : {}),
    }),
    normalize: normalizeHvkitOutput,
  });
  return [
    guest("hello.elf", "hello (bare metal, SBI console)", /^Hello from hvkit: .*\nDONE status=0\n$/m),
    guest(
      "bare-test.elf",
      "bare-test (bare metal self-test: SBI, M/A/F/D, CSRs, traps, timer, Sv39)",
      /^CHECK bare tests=\d+ failed=0 ok\nDONE status=0$/m,
    ),
  ];
}
