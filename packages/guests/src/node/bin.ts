#!/usr/bin/env node
/** The `hvkit-initramfs` executable. */
import { initramfsMain } from "./cli.js";

process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code !== "EPIPE") throw e;
  process.exit(process.exitCode ?? 0);
});
process.exitCode = initramfsMain(process.argv.slice(2));
