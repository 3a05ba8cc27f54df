import { assemble } from "@hvkit/isa";
import { type RunResult, VirtBoard, type VirtBoardConfig } from "../src/index.js";

/** A board running an assembled program, and what it printed. */
export interface Guest {
  board: VirtBoard;
  /** Everything the guest wrote to the UART so far. */
  readonly output: string;
  /** Address of a label. */
  sym(name: string): number;
  /** The 64-bit word at a label plus `offset`. */
  dword(name: string, offset?: number): bigint;
  /** Run the board (default budget: 10 million steps). */
  run(maxSteps?: number): RunResult;
}

/** Assemble `source` at 0x8000_0000 into a fresh board (16 MiB of RAM) and reset the hart to `_start`. */
export function guest(source: string, config: VirtBoardConfig = {}): Guest {
  let output = "";
  const board = new VirtBoard({
    ramSize: 16 << 20,
    onConsole: (b) => {
      output += String.fromCharCode(b);
    },
    ...config,
  });
  const { bytes, symbols, entry } = assemble(source, { base: 0x8000_0000n });
  board.ram.set(bytes, 0);
  board.hart.ramChanged(board.ramBase, bytes.length);
  board.hart.reset(entry);
  const view = new DataView(board.ram.buffer, board.ram.byteOffset, board.ram.byteLength);
  const sym = (name: string): number => {
    const v = symbols.get(name);
    if (v === undefined) throw new Error(`no symbol ${name}`);
    return Number(v);
  };
  return {
    board,
    get output() {
      return output;
    },
    sym,
    dword: (name, offset = 0) => view.getBigUint64(sym(name) - board.ramBase + offset, true),
    run: (maxSteps = 10_000_000) => board.run(maxSteps),
  };
}

/** A deterministic pseudo-random generator (xorshift32) for fuzzing. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** An interrupt line that records its level. */
export function probe(): { level: boolean; edges: number; line: (l: boolean) => void } {
  const p = {
    level: false,
    edges: 0,
    line: (l: boolean) => {
      if (l && !p.level) p.edges++;
      p.level = l;
    },
  };
  return p;
}
