import type { BlockStore } from "../store.js";
import { MemoryStore } from "../store.js";

/** One recorded store operation. */
export type StoreOp =
  | { readonly kind: "write"; readonly offset: number; readonly data: Uint8Array }
  | { readonly kind: "resize"; readonly size: number }
  | { readonly kind: "flush" };

/**
 * A store that behaves like a MemoryStore and records every write, resize
 * and flush, so a test can rebuild what storage would hold had the process
 * or the machine died at any point: crash simulation for every N over a
 * workload.
 */
export class RecordingStore implements BlockStore {
  readonly name = "recording";
  readonly readOnly = false;
  readonly #initial: MemoryStore;
  readonly #live: MemoryStore;
  readonly #ops: StoreOp[] = [];

  /** Start from a copy of initial (what storage durably holds now). */
  constructor(initial: MemoryStore = new MemoryStore()) {
    this.#initial = initial.snapshot();
    this.#live = initial.snapshot();
  }

  get size(): number {
    return this.#live.size;
  }

  /** Every operation so far, in issue order. */
  get ops(): readonly StoreOp[] {
    return this.#ops;
  }

  /** Writes and resizes so far (the N of crashAfter). */
  get mutations(): number {
    return this.#ops.filter((op) => op.kind !== "flush").length;
  }

  read(offset: number, length: number): Uint8Array {
    return this.#live.read(offset, length);
  }

  write(offset: number, data: Uint8Array): void {
    this.#live.write(offset, data);
    this.#ops.push({ kind: "write", offset, data: data.slice() });
  }

  flush(): void {
    this.#ops.push({ kind: "flush" });
  }

  resize(size: number): void {
    this.#live.resize(size);
    this.#ops.push({ kind: "resize", size });
  }

  /** The live content (what the process sees). */
  current(): MemoryStore {
    return this.#live.snapshot();
  }

  /**
   * Storage after the process was killed once n writes had been issued: the
   * first n mutations persisted, the rest lost (the page cache keeps issue
   * order, flush or not).
   */
  crashAfter(n: number): MemoryStore {
    const out = this.#initial.snapshot();
    let done = 0;
    for (const op of this.#ops) {
      if (done >= n) break;
      if (op.kind === "flush") continue;
      apply(out, op);
      done++;
    }
    return out;
  }

  /**
   * Storage after a crash after each number of writes in turn: yields n = 0
   * (the initial content), 1, ... mutations. The store yielded is reused;
   * take snapshot() to keep or change it.
   */
  *crashes(): Generator<{ readonly n: number; readonly store: MemoryStore }> {
    const out = this.#initial.snapshot();
    let n = 0;
    yield { n, store: out };
    for (const op of this.#ops) {
      if (op.kind === "flush") continue;
      apply(out, op);
      yield { n: ++n, store: out };
    }
  }

  /**
   * Storage after a power loss once n mutations had been issued, when the
   * device may have reordered writes between flushes: every mutation before
   * the last flush issued before the n-th is persisted; of those after it,
   * an arbitrary subset (chosen by random, a function returning [0, 1)) is.
   */
  powerLoss(n: number, random: () => number): MemoryStore {
    const out = this.#initial.snapshot();
    let done = 0;
    let pending: StoreOp[] = [];
    for (const op of this.#ops) {
      if (done >= n) break;
      if (op.kind === "flush") {
        for (const p of pending) apply(out, p);
        pending = [];
        continue;
      }
      pending.push(op);
      done++;
    }
    for (const p of pending) if (random() < 0.5) apply(out, p);
    return out;
  }

  /**
   * powerLoss() for every n in turn, trials times each: yields n = 0, 1, ...
   * with a fresh store per trial (cheap: chunks are shared copy-on-write).
   */
  *powerLosses(
    random: () => number,
    trials = 1,
  ): Generator<{ readonly n: number; readonly store: MemoryStore }> {
    const durable = this.#initial.snapshot();
    let pending: StoreOp[] = [];
    let n = 0;
    const emit = function* (): Generator<{ readonly n: number; readonly store: MemoryStore }> {
      for (let t = 0; t < trials; t++) {
        const out = durable.snapshot();
        for (const p of pending) if (random() < 0.5) apply(out, p);
        yield { n, store: out };
      }
    };
    yield* emit();
    for (const op of this.#ops) {
      if (op.kind === "flush") {
        for (const p of pending) apply(durable, p);
        pending = [];
        continue;
      }
      pending.push(op);
      n++;
      yield* emit();
    }
  }
}

function apply(store: MemoryStore, op: StoreOp): void {
  if (op.kind === "write") store.write(op.offset, op.data);
  else if (op.kind === "resize") store.resize(op.size);
}
