/**
 * The process's standard input and signals as a guest console: raw mode on a
 * terminal (restored on every way out, including an uncaught exception), a
 * plain non-blocking reader on a pipe or file.
 */
import type { ConsoleEvents, ConsoleHost, ConsoleSignal } from "./io.js";

const SIGNALS: readonly ConsoleSignal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** Errors with a code, as Node.js streams emit them. */
type ErrnoError = Error & { code?: string };

/** The real standard input. */
export const nodeTerminal: ConsoleHost = {
  get isTTY(): boolean {
    return process.stdin.isTTY === true;
  },

  attach(events: ConsoleEvents): () => void {
    const stdin = process.stdin;
    const tty = stdin.isTTY === true;
    const onData = (chunk: Buffer | string): void => {
      events.data(typeof chunk === "string" ? new TextEncoder().encode(chunk) : new Uint8Array(chunk));
    };
    // An error (EIO after a hangup, EBADF) means no more input, like the end.
    const onEnd = (): void => events.end();
    const onSignal = (name: ConsoleSignal): void => events.signal(name);
    // Node.js ignores SIGPIPE; a reader that went away (hvkit run ... | head) shows up as EPIPE.
    const onOutputError = (e: ErrnoError): void => {
      if (e.code === "EPIPE") events.signal("SIGPIPE");
    };
    const restore = (): void => {
      if (tty && stdin.isRaw) stdin.setRawMode(false);
    };
    // The last resort: 'exit' also runs after an uncaught exception.
    process.once("exit", restore);
    for (const s of SIGNALS) process.on(s, onSignal);
    process.stdout.on("error", onOutputError);
    stdin.on("data", onData);
    stdin.on("end", onEnd);
    stdin.on("error", onEnd);
    if (tty) stdin.setRawMode(true);
    stdin.resume();
    let attached = true;
    return () => {
      if (!attached) return;
      attached = false;
      stdin.off("data", onData);
      stdin.off("end", onEnd);
      stdin.off("error", onEnd);
      for (const s of SIGNALS) process.off(s, onSignal);
      process.stdout.off("error", onOutputError);
      restore();
      process.off("exit", restore);
      // Stop reading: a pipe whose writer stays open must not keep the process alive.
      stdin.pause();
      stdin.unref?.();
    };
  },
};
