/**
 * @hvkit/migration/node — migration channels over TCP (node:net): each
 * message is framed as a u32 little-endian length and the bytes. `send`
 * waits for the socket to drain when its buffer is full (back-pressure); a
 * closed, reset or failed connection rejects pending and later calls with
 * MIGRATION_DISCONNECTED.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { type Channel, disconnected, Inbox, MigrationError } from "../channel.js";

/** Largest message accepted: a snapshot of 2 GiB of RAM that did not compress at all, plus headroom. */
const MAX_MESSAGE = 2 ** 31 + 2 ** 24;

/** A Channel over a connected socket. */
export function socketChannel(socket: Socket): Channel {
  const inbox = new Inbox();
  let buffered: Buffer[] = [];
  let length = 0;
  let need = -1;
  socket.setNoDelay(true);
  socket.on("data", (chunk: Buffer) => {
    buffered.push(chunk);
    length += chunk.length;
    for (;;) {
      if (need < 0) {
        if (length < 4) return;
        const all = Buffer.concat(buffered, length);
        need = all.readUInt32LE(0);
        if (need > MAX_MESSAGE) {
          inbox.fail(new MigrationError("MIGRATION_PROTOCOL", `the peer announced a ${need}-byte message`));
          socket.destroy();
          return;
        }
        buffered = [all.subarray(4)];
        length -= 4;
      }
      if (length < need) return;
      const all = Buffer.concat(buffered, length);
      inbox.push(new Uint8Array(all.buffer, all.byteOffset, need).slice());
      buffered = [all.subarray(need)];
      length -= need;
      need = -1;
    }
  });
  socket.on("error", (e) => inbox.fail(disconnected(e.message)));
  socket.on("close", () => inbox.fail(disconnected("the peer closed it")));
  return {
    send(message) {
      if (socket.destroyed || !socket.writable) return Promise.reject(disconnected("it is closed"));
      return new Promise((resolve, reject) => {
        const head = Buffer.alloc(4);
        head.writeUInt32LE(message.length, 0);
        socket.write(head);
        const fits = socket.write(message, (e) => {
          if (e) reject(disconnected(e.message));
          else if (fits) resolve();
        });
        if (!fits) {
          const onDrain = (): void => {
            socket.off("close", onClose);
            resolve();
          };
          const onClose = (): void => {
            socket.off("drain", onDrain);
            reject(disconnected("the peer closed it"));
          };
          socket.once("drain", onDrain);
          socket.once("close", onClose);
        }
      });
    },
    receive: () => inbox.take(),
    close() {
      socket.end();
      socket.destroySoon?.();
    },
  };
}

/** Connect to a receiving hvkit at host:port. */
export function connectChannel(host: string, port: number): Promise<Channel> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host, port });
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socketChannel(socket));
    });
    socket.once("error", (e) =>
      reject(new MigrationError("MIGRATION_DISCONNECTED", `cannot connect to ${host}:${port}: ${e.message}`)),
    );
  });
}

/** A listening socket that hands out one Channel per incoming migration. */
export interface ChannelListener {
  /** The port it listens on (useful with port 0). */
  readonly port: number;
  /** The next incoming connection. */
  accept(): Promise<Channel>;
  /** Stop listening. */
  close(): void;
}

/** Listen for migrations on `port` (0: any free port) at `host` (default all interfaces). */
export function listenChannel(port: number, host?: string): Promise<ChannelListener> {
  return new Promise((resolve, reject) => {
    const pending: Socket[] = [];
    const waiting: ((s: Socket) => void)[] = [];
    const server: Server = createServer((socket) => {
      const w = waiting.shift();
      if (w) w(socket);
      else pending.push(socket);
    });
    server.once("error", (e) =>
      reject(new MigrationError("MIGRATION_DISCONNECTED", `cannot listen on port ${port}: ${e.message}`)),
    );
    server.listen(port, host, () => {
      const address = server.address();
      resolve({
        port: typeof address === "object" && address !== null ? address.port : port,
        accept: () =>
          new Promise((ok) => {
            const s = pending.shift();
            if (s) ok(socketChannel(s));
            else waiting.push((sock) => ok(socketChannel(sock)));
          }),
        close: () => {
          server.close();
        },
      });
    });
  });
}
