/**
 * Live migration by iterative pre-copy (Clark et al., NSDI 2005): the guest
 * keeps running while its memory is sent in rounds — everything first, then
 * the pages it dirtied during the previous round — until one of Xen's stop
 * conditions holds; then it is paused for the stop-and-copy of the last
 * dirty pages with the CPU and devices (a snapshot whose RAM section holds
 * only those pages), the target restores and confirms, and only then does
 * the source give the VM up. Until the source commits, any failure leaves
 * the source VM exactly as it was: it was only paused.
 *
 * Wire protocol (each message's first byte is its type):
 *   source -> target  HELLO (JSON), PAGES (a page set, see @hvkit/hypervisor), FINAL (a snapshot), COMMIT
 *   target -> source  READY (restored), ABORT (UTF-8 reason)
 */

import type { RestoreOptions } from "@hvkit/hypervisor";
import {
  decodePages,
  encodeContainer,
  encodePages,
  SnapshotError,
  type SnapshotOptions,
  Vm,
} from "@hvkit/hypervisor";
import { type Channel, MigrationError, receiveWithin } from "./channel.js";
import { DirtyLog } from "./dirty.js";

const T_HELLO = 1;
const T_PAGES = 2;
const T_FINAL = 3;
const T_READY = 4;
const T_COMMIT = 5;
const T_ABORT = 6;
const PROTOCOL = "hvkit.migration/1";

/** Pages per PAGES message: 1 MiB of guest RAM, so the guest runs between messages at a fine grain. */
const CHUNK_PAGES = 256;
/** Fewest steps per guest run during pre-copy (smaller pieces measure the call's overhead, not the guest). */
const MIN_PIECE = 10_000;

/** Xen's stop conditions of the Clark et al. era (FACTS.md), and the pacing of the guest during pre-copy. */
export interface MigrationOptions {
  /** At most this many pre-copy rounds (Xen: 30). */
  maxRounds?: number;
  /** Stop once this many times the VM's pages were sent in total (Xen: 3). */
  maxSentFactor?: number;
  /** Stop when fewer pages than this are dirty after a round (Xen: 50). */
  minDirtyPages?: number;
  /**
   * Link bandwidth limit in bytes per second (default none). The guest runs
   * while each message is encoded and travels: for the sender's wall time or
   * the message's time on the link at this bandwidth, whichever is longer
   * (one thread does both, as if the guest and the migration each had the
   * machine half the time).
   */
  bandwidth?: number;
  /**
   * Deterministic pacing instead of wall time: the guest runs this many steps
   * per page sent (a link speed in guest time). Default: the guest runs for the
   * wall time each message takes (at `bandwidth`, or what the transport took).
   */
  stepsPerPage?: number;
  /** Give up when the target has not confirmed within this many ms (default 60 s). */
  confirmTimeoutMs?: number;
  /** Disk references for the snapshot (see vm.snapshot). */
  disks?: SnapshotOptions["disks"];
  /** Called after each round (progress). */
  onRound?: (round: RoundReport) => void;
  /** Fault injection for tests: called before each message is sent, with its type name; throw to fail there. */
  beforeSend?: (type: string, round: number) => void;
}

/** One pre-copy round. */
export interface RoundReport {
  round: number;
  /** Pages sent (zero pages included: they travel as an index only). */
  pagesSent: number;
  /** Of those, all-zero pages. */
  zeroPages: number;
  /** Pages due this round but dirtied again before their turn: left for a later round (Xen). */
  pagesSkipped: number;
  /** Pages the guest dirtied during the round. */
  pagesDirtied: number;
  bytes: number;
  ms: number;
  /** Guest steps executed during the round. */
  guestSteps: number;
}

/** Why pre-copy stopped. */
export type StopCondition = "few-dirty-pages" | "max-rounds" | "max-sent" | "dirtying-faster-than-sending";

/** What one migration did (the source's view). */
export interface MigrationReport {
  strategy: string;
  /** Guest RAM pages. */
  pages: number;
  rounds: RoundReport[];
  stopCondition: StopCondition;
  /** Stop-and-copy: dirty pages sent with the CPU and devices, and that message's size. */
  finalPages: number;
  finalBytes: number;
  /** Everything sent, in bytes. */
  bytes: number;
  /** From the start to the target's confirmation. */
  totalMs: number;
  /** Guest-visible stop: from the pause to the target's confirmation (it resumes then). */
  downtimeMs: number;
  /** Guest instructions the downtime cost, at the rate the guest ran during pre-copy. */
  downtimeInstructions: number;
  /** Guest steps (instructions + traps) when the guest was paused: where the target continues. */
  pausedAtStep: number;
}

function message(type: number, payload: Uint8Array): Uint8Array {
  const m = new Uint8Array(1 + payload.length);
  m[0] = type;
  m.set(payload, 1);
  return m;
}

const TYPE_NAMES = ["?", "HELLO", "PAGES", "FINAL", "READY", "COMMIT", "ABORT"];

/**
 * Migrate `vm` over `channel`. Resolves with the report once the target has
 * confirmed and the source has committed: the caller must not run `vm`
 * again. Rejects with a MigrationError on any failure before the commit; the
 * VM is then untouched (paused at most) and the caller keeps running it.
 */
export async function migrate(
  vm: Vm,
  channel: Channel,
  options: MigrationOptions = {},
): Promise<MigrationReport> {
  const maxRounds = options.maxRounds ?? 30;
  const maxSent = (options.maxSentFactor ?? 3) * (vm.board.ram.length / 4096);
  const minDirty = options.minDirtyPages ?? 50;
  const start = performance.now();
  const log = new DirtyLog(vm);
  const ram = vm.board.ram;
  const rounds: RoundReport[] = [];
  let bytes = 0;
  let totalSent = 0;
  let round = 0;
  let guestMs = 0;
  let guestInstructions = 0;
  /** The guest's speed, measured as it runs (a first guess: 20 MIPS). */
  let stepsPerMs = 20_000;
  const send = async (type: number, payload: Uint8Array): Promise<void> => {
    options.beforeSend?.(TYPE_NAMES[type]!, round);
    const m = message(type, payload);
    bytes += m.length;
    await channel.send(m);
  };
  /** Let the guest run for what a message of `size` bytes carrying `pages` pages takes on the link. */
  const runGuest = (size: number, pages: number, sendMs: number): void => {
    const t = performance.now();
    const i = vm.hart.instret;
    const c = vm.hart.cycles;
    if (options.stepsPerPage !== undefined) vm.run({ steps: options.stepsPerPage * pages });
    else {
      // The guest runs while the message is encoded and travels: the sender's time, or the link's if slower.
      const ms = Math.max(sendMs, options.bandwidth ? (1000 * size) / options.bandwidth : 0);
      // vm.run checks the wall clock only every few million steps: run in pieces sized by the guest's speed.
      for (let left = ms; left > 0 && !vm.finished; left = ms - (performance.now() - t)) {
        const r = vm.run({ wallMs: left, steps: Math.max(MIN_PIECE, Math.round(left * stepsPerMs)) });
        if (r.stop !== "limit") break;
      }
    }
    const took = performance.now() - t;
    const ran = vm.hart.cycles - c;
    if (ran >= MIN_PIECE && took > 0) stepsPerMs = ran / took;
    guestMs += took;
    guestInstructions += vm.hart.instret - i;
    if (vm.finished) {
      throw new MigrationError(
        "MIGRATION_GUEST_STOPPED",
        `the guest stopped (${vm.finished.stop}) during pre-copy; there is nothing left to migrate`,
      );
    }
  };
  try {
    if (vm.finished)
      throw new MigrationError("MIGRATION_GUEST_STOPPED", "the guest has stopped; nothing to migrate");
    const hello = { protocol: PROTOCOL, memory: ram.length, strategy: vm.strategy.name };
    await send(T_HELLO, new TextEncoder().encode(JSON.stringify(hello)));
    log.start();
    let due: ArrayLike<number> = Uint32Array.from({ length: ram.length / 4096 }, (_, i) => i);
    let stop: StopCondition;
    for (;;) {
      round++;
      const t0 = performance.now();
      const s0 = vm.hart.cycles;
      const r: RoundReport = {
        round,
        pagesSent: 0,
        zeroPages: 0,
        pagesSkipped: 0,
        pagesDirtied: 0,
        bytes: 0,
        ms: 0,
        guestSteps: 0,
      };
      const chunk: number[] = [];
      const flush = async (): Promise<void> => {
        if (chunk.length === 0) return;
        const t = performance.now();
        const payload = encodePages(ram, chunk);
        await send(T_PAGES, payload);
        const zero = countZero(payload);
        r.pagesSent += chunk.length;
        r.zeroPages += zero;
        r.bytes += payload.length + 1;
        totalSent += chunk.length;
        runGuest(payload.length + 1, chunk.length, performance.now() - t);
        chunk.length = 0;
      };
      for (let i = 0; i < due.length; i++) {
        const p = due[i]!;
        // Dirtied again before its turn: it would only be sent twice (Xen skips it this round).
        if (round > 1 && log.isDirty(p)) {
          r.pagesSkipped++;
          continue;
        }
        chunk.push(p);
        if (chunk.length === CHUNK_PAGES) await flush();
      }
      await flush();
      r.pagesDirtied = log.count;
      r.ms = performance.now() - t0;
      r.guestSteps = vm.hart.cycles - s0;
      rounds.push(r);
      options.onRound?.(r);
      const dirty = log.count;
      const sendRate = r.pagesSent / Math.max(r.ms, 1e-3);
      const dirtyRate = dirty / Math.max(r.ms, 1e-3);
      if (dirty < minDirty) stop = "few-dirty-pages";
      else if (round >= maxRounds) stop = "max-rounds";
      else if (totalSent >= maxSent) stop = "max-sent";
      else if (round > 1 && dirtyRate > sendRate) stop = "dirtying-faster-than-sending";
      else {
        due = log.collect();
        continue;
      }
      break;
    }
    // Stop-and-copy: the guest is paused from here (it simply is not run).
    const paused = performance.now();
    const pausedAtStep = vm.hart.cycles;
    const last = log.collect();
    log.stop();
    let snapshot: Uint8Array;
    try {
      snapshot = encodeContainer(vm.snapshotSections({ disks: options.disks ?? [] }, encodePages(ram, last)));
    } catch (e) {
      if (e instanceof SnapshotError) throw new MigrationError("MIGRATION_ABORTED", e.message);
      throw e;
    }
    // The stopped guest waits for the last message to cross the link.
    if (options.bandwidth)
      await new Promise((r) => setTimeout(r, (1000 * snapshot.length) / options.bandwidth!));
    await send(T_FINAL, snapshot);
    const reply = await receiveWithin(
      channel,
      options.confirmTimeoutMs ?? 60_000,
      "confirmation from the target",
    );
    if (reply[0] === T_ABORT) {
      throw new MigrationError(
        "MIGRATION_ABORTED",
        `the target refused the VM: ${new TextDecoder().decode(reply.subarray(1))}`,
      );
    }
    if (reply[0] !== T_READY)
      throw new MigrationError("MIGRATION_PROTOCOL", `expected READY, got message type ${reply[0]}`);
    // The handover: from here the target owns the VM.
    await send(T_COMMIT, new Uint8Array(0));
    const now = performance.now();
    const downtimeMs = now - paused;
    const rate = guestMs > 0 ? guestInstructions / guestMs : 0;
    return {
      strategy: vm.strategy.name,
      pages: ram.length / 4096,
      rounds,
      stopCondition: stop,
      finalPages: last.length,
      finalBytes: snapshot.length + 1,
      bytes,
      totalMs: now - start,
      downtimeMs,
      downtimeInstructions: Math.round(rate * downtimeMs),
      pausedAtStep,
    };
  } catch (e) {
    log.stop();
    channel.close();
    throw e;
  } finally {
    log.stop();
  }
}

function countZero(payload: Uint8Array): number {
  const v = new DataView(payload.buffer, payload.byteOffset, payload.length);
  const n = v.getUint32(4, true);
  let z = 0;
  for (let i = 0; i < n; i++) z += v.getUint32(8 + 4 * i, true) & 1;
  return z;
}

/** What the target received. */
export interface ReceivedVm {
  /** The restored VM, committed: run it. */
  vm: Vm;
  /** Pre-copy messages and bytes received. */
  messages: number;
  bytes: number;
}

/** Options of {@link receive}. */
export interface ReceiveOptions extends Omit<RestoreOptions, "baseRam" | "basePages"> {
  /** Give up when the source is silent this long (default 60 s). */
  timeoutMs?: number;
  /** Fault injection for tests: called before each message is handled, with its type name. */
  beforeHandle?: (type: string) => void;
}

/**
 * Receive a VM over `channel`. Resolves with the restored VM once the source
 * committed the handover. Rejects with a MigrationError otherwise; when the
 * connection ends after this side confirmed but before the commit arrived,
 * the error is MIGRATION_IN_DOUBT and carries the complete VM (`vm`): the
 * source may have resumed it, so it is not run, but nothing is lost.
 */
export async function receive(channel: Channel, options: ReceiveOptions = {}): Promise<ReceivedVm> {
  const timeout = options.timeoutMs ?? 60_000;
  let ram: Uint8Array | undefined;
  /** Pages received non-zero (only those are copied into the VM at the end). */
  let present: Uint8Array | undefined;
  const track = (page: number, zero: boolean): void => {
    present![page] = zero ? 0 : 1;
  };
  let messages = 0;
  let bytes = 0;
  try {
    for (;;) {
      const m = await receiveWithin(channel, timeout, "message from the source");
      messages++;
      bytes += m.length;
      options.beforeHandle?.(TYPE_NAMES[m[0]!] ?? "?");
      const payload = m.subarray(1);
      switch (m[0]) {
        case T_HELLO: {
          const hello = JSON.parse(new TextDecoder().decode(payload)) as {
            protocol?: string;
            memory?: number;
          };
          if (hello.protocol !== PROTOCOL || typeof hello.memory !== "number" || hello.memory % 4096 !== 0) {
            throw new MigrationError(
              "MIGRATION_PROTOCOL",
              `the source speaks ${String(hello.protocol)}, not ${PROTOCOL}`,
            );
          }
          ram = new Uint8Array(hello.memory);
          present = new Uint8Array(hello.memory / 4096);
          break;
        }
        case T_PAGES:
          if (!ram || !present) throw new MigrationError("MIGRATION_PROTOCOL", "pages before HELLO");
          decodePages(payload, ram, track);
          break;
        case T_FINAL: {
          if (!ram) throw new MigrationError("MIGRATION_PROTOCOL", "FINAL before HELLO");
          let vm: Vm;
          try {
            const pages: number[] = [];
            for (let p = 0; p < present!.length; p++) if (present![p] !== 0) pages.push(p);
            vm = Vm.restore(payload, { ...options, baseRam: ram, basePages: pages });
          } catch (e) {
            await channel
              .send(message(T_ABORT, new TextEncoder().encode((e as Error).message)))
              .catch(() => {});
            throw e;
          }
          ram = undefined;
          await channel.send(message(T_READY, new Uint8Array(0)));
          let commit: Uint8Array;
          try {
            commit = await receiveWithin(channel, timeout, "commit from the source");
          } catch (e) {
            const err = new MigrationError(
              "MIGRATION_IN_DOUBT",
              `the connection ended after the VM was restored but before the source committed (${(e as Error).message}); the source may still run it, so it is not started here`,
            ) as MigrationError & { vm: Vm };
            err.vm = vm;
            throw err;
          }
          if (commit[0] !== T_COMMIT)
            throw new MigrationError("MIGRATION_PROTOCOL", `expected COMMIT, got ${commit[0]}`);
          channel.close();
          return { vm, messages: messages + 1, bytes: bytes + commit.length };
        }
        default:
          throw new MigrationError("MIGRATION_PROTOCOL", `unexpected message type ${m[0]}`);
      }
    }
  } catch (e) {
    channel.close();
    throw e;
  }
}
