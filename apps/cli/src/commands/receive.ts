/**
 * `hvkit receive --listen PORT`: wait for one live migration from
 * `hvkit migrate --to HOST:PORT`, then run the received guest with its
 * console on standard input and output, as `hvkit run` does.
 */
import { receive } from "@hvkit/migration";
import { listenChannel } from "@hvkit/migration/node";
import type { Io } from "../io.js";
import { getShippedStrategy, registerShippedStrategies } from "../strategies.js";
import { driveGuest, type RunGuestOptions } from "./run-guest.js";

/** Options of {@link runReceive}. */
export interface ReceiveCommandOptions {
  /** TCP port to listen on. */
  port: number;
  /** Address to listen on (default all interfaces). */
  host?: string;
  /** Run the guest under this strategy instead of the source's. */
  strategy?: string;
  /** As for hvkit run. */
  maxSteps?: number;
  stats?: boolean;
  statsJson?: string;
}

/** Receive one VM and run it; returns the process exit code. */
export async function runReceive(options: ReceiveCommandOptions, io: Io): Promise<number> {
  // The source names its strategy; every shipped one must be known here.
  registerShippedStrategies();
  const listener = await listenChannel(options.port, options.host);
  io.stderr(`hvkit: waiting for a migration on port ${listener.port}\n`);
  let received: Awaited<ReturnType<typeof receive>>;
  try {
    const channel = await listener.accept();
    received = await receive(
      channel,
      options.strategy !== undefined ? { strategy: getShippedStrategy(options.strategy) } : {},
    );
  } finally {
    listener.close();
  }
  const vm = received.vm;
  io.stderr(
    `hvkit: received the VM (${received.bytes} bytes in ${received.messages} messages); continuing at step ${vm.hart.cycles} under ${vm.strategy.name}\n`,
  );
  const run: RunGuestOptions = { strategy: vm.strategy.name };
  if (options.maxSteps !== undefined) run.maxSteps = options.maxSteps;
  if (options.stats) run.stats = true;
  if (options.statsJson !== undefined) run.statsJson = options.statsJson;
  return driveGuest(vm, run, io);
}
