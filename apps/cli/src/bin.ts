#!/usr/bin/env node
import { main } from "./main.js";

// A reader that stops early (hvkit disasm big.elf | head) is not an error:
// Node.js ignores SIGPIPE and reports EPIPE on stdout instead; say nothing.
process.stdout.on("error", (e: Error & { code?: string }) => {
  if (e.code !== "EPIPE") throw e;
});

process.exitCode = await main(process.argv);
