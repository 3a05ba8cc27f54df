/**
 * Child-process entry for one hvkit boot (see hvkit-process.ts): receives a
 * ChildRequest over IPC, boots, answers with a ChildReply and exits. Progress
 * goes straight to the inherited stderr, since the boot blocks this process.
 */
import { readFileSync } from "node:fs";
import { BootBenchError } from "./errors.js";
import { bootHvkit } from "./hvkit.js";
import type { ChildReply, ChildRequest } from "./hvkit-process.js";

process.once("message", (request: ChildRequest) => {
  let reply: ChildReply;
  try {
    const run = bootHvkit({
      label: request.label,
      strategy: request.strategy,
      kernel: readFileSync(request.kernelPath),
      initrd: readFileSync(request.initrdPath),
      cmdline: request.cmdline,
      memory: request.memory,
      firmware: request.firmwarePath === undefined ? "builtin" : readFileSync(request.firmwarePath),
      timeoutMs: request.timeoutMs,
      progress: (line) => process.stderr.write(`[bench:boot] ${line}\n`),
    });
    reply = { ok: true, run };
  } catch (e) {
    reply =
      e instanceof BootBenchError
        ? { ok: false, code: e.code, message: e.message }
        : { ok: false, code: "BOOT_FAILED", message: `${request.label}: ${(e as Error).stack ?? e}` };
  }
  process.send!(reply, () => process.disconnect());
});
