import type { Io } from "../src/main.js";

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
  for (const [k, v] of Object.entries(files))
    map.set(k, typeof v === "string" ? new TextEncoder().encode(v) : v);
  const io: MemoryIo = {
    files: map,
    out: "",
    err: "",
    stdout: (s) => {
      io.out += s;
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
