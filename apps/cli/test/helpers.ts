import type { ConsoleEvents, ConsoleHost, Io } from "../src/main.js";

/** An in-memory {@link Io}: a file map plus captured output. */
export interface MemoryIo extends Io {
  readonly files: Map<string, Uint8Array>;
  out: string;
  err: string;
}

/** A Node.js-like system error, as fs would throw it. */
function enoent(path: string): Error {
  return Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), {
    code: "ENOENT",
    syscall: "open",
    path,
  });
}

export function memoryIo(files: Record<string, Uint8Array | string> = {}): MemoryIo {
  const map = new Map<string, Uint8Array>();
  const decoder = new TextDecoder();
  for (const [k, v] of Object.entries(files))
    map.set(k, typeof v === "string" ? new TextEncoder().encode(v) : v);
  const io: MemoryIo = {
    files: map,
    out: "",
    err: "",
    stdout: (s) => {
      io.out += s;
    },
    stdoutBytes: (b) => {
      io.out += decoder.decode(b, { stream: true });
    },
    stderr: (s) => {
      io.err += s;
    },
    readFile: (path) => {
      const f = map.get(path);
      if (!f) throw enoent(path);
      return f;
    },
    writeFile: (path, data) => {
      map.set(path, data);
    },
  };
  return io;
}

/** argv as process.argv would hold it. */
export const argv = (...args: string[]): string[] => ["node", "hvkit", ...args];

/** A scripted {@link ConsoleHost}: records attach/detach, and lets the test drive input and signals. */
export interface FakeTerminal extends ConsoleHost {
  attached: number;
  detached: number;
  /** The handlers of the current attachment (set while attached). */
  events: ConsoleEvents | undefined;
}

/**
 * A fake standard input. `onAttach` runs on the next turn of the event loop
 * after the CLI attaches, as real input would arrive.
 */
export function fakeTerminal(isTTY: boolean, onAttach?: (events: ConsoleEvents) => void): FakeTerminal {
  const t: FakeTerminal = {
    isTTY,
    attached: 0,
    detached: 0,
    events: undefined,
    attach(events) {
      t.attached++;
      t.events = events;
      if (onAttach) setImmediate(() => onAttach(events));
      return () => {
        t.detached++;
        t.events = undefined;
      };
    },
  };
  return t;
}
