/**
 * The transport a migration runs over: ordered, reliable messages (TCP in
 * `@hvkit/migration/node`, an in-memory pair here for tests and in-process
 * moves). A closed or broken channel rejects every pending and later call
 * with MIGRATION_DISCONNECTED.
 */

/** Stable error codes of live migration. */
export type MigrationErrorCode =
  | "MIGRATION_DISCONNECTED"
  | "MIGRATION_TIMEOUT"
  | "MIGRATION_PROTOCOL"
  | "MIGRATION_ABORTED"
  | "MIGRATION_GUEST_STOPPED"
  | "MIGRATION_IN_DOUBT";

/** A migration that could not complete; the source VM is unharmed unless the code says otherwise. */
export class MigrationError extends Error {
  override readonly name = "MigrationError";
  /** Stable, machine-readable error code. */
  readonly code: MigrationErrorCode;

  constructor(code: MigrationErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** Ordered, reliable messages between the two sides of a migration. */
export interface Channel {
  /** Send one message; resolves once the transport took it (back-pressure). */
  send(message: Uint8Array): Promise<void>;
  /** The next message. */
  receive(): Promise<Uint8Array>;
  /** Close both directions; the peer's calls then reject with MIGRATION_DISCONNECTED. */
  close(): void;
}

/** `receive()` with a deadline: MIGRATION_TIMEOUT after `ms` (Infinity: none). */
export function receiveWithin(channel: Channel, ms: number, what: string): Promise<Uint8Array> {
  if (!Number.isFinite(ms)) return channel.receive();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new MigrationError("MIGRATION_TIMEOUT", `no ${what} within ${ms} ms; the peer is gone or stuck`),
        ),
      ms,
    );
    channel.receive().then(
      (m) => {
        clearTimeout(timer);
        resolve(m);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/**
 * A message queue with waiting readers: the receiving half of a channel.
 * Transports push what arrives and fail it when the connection ends.
 */
export class Inbox {
  private readonly messages: Uint8Array[] = [];
  private readonly waiting: { resolve: (m: Uint8Array) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | undefined;

  /** A message arrived. */
  push(message: Uint8Array): void {
    const w = this.waiting.shift();
    if (w) w.resolve(message);
    else this.messages.push(message);
  }

  /** The connection ended: queued messages are still delivered, then every read fails. */
  fail(error: Error): void {
    this.failure ??= error;
    for (const w of this.waiting.splice(0)) w.reject(this.failure);
  }

  /** Whether the connection ended. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** The next message. */
  take(): Promise<Uint8Array> {
    const m = this.messages.shift();
    if (m) return Promise.resolve(m);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }
}

/** The error a closed channel gives. */
export function disconnected(detail: string): MigrationError {
  return new MigrationError("MIGRATION_DISCONNECTED", `the migration connection closed (${detail})`);
}

/** Two connected in-memory channels (messages are copied, as a wire would). */
export function channelPair(): [Channel, Channel] {
  const inboxes = [new Inbox(), new Inbox()] as const;
  let closed = false;
  const end = (who: string): void => {
    if (closed) return;
    closed = true;
    for (const i of inboxes) i.fail(disconnected(`${who} closed it`));
  };
  const side = (mine: Inbox, theirs: Inbox, name: string): Channel => ({
    send: (message) => {
      if (closed) return Promise.reject(disconnected("it was closed"));
      theirs.push(message.slice());
      // Let the other side's pending reads run, as a real transport would.
      return new Promise((resolve) => setTimeout(resolve, 0));
    },
    receive: () => mine.take(),
    close: () => end(name),
  });
  return [side(inboxes[0], inboxes[1], "side A"), side(inboxes[1], inboxes[0], "side B")];
}
