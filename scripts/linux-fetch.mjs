#!/usr/bin/env node
// pnpm linux:fetch — fetches Debian's riscv64 kernel and busybox-static into the
// hvkit cache (outside git) and builds a busybox initramfs; see
// packages/guests/README.md. Run through tsx with the @hvkit/source condition
// (as the root package.json does) so the TypeScript sources load directly.
import { linuxFetchMain } from "../packages/guests/src/node/cli.ts";

// `pnpm linux:fetch | head -1` closes the pipe early; that is not an error.
process.stdout.on("error", (e) => {
  if (e.code !== "EPIPE") throw e;
  process.exit(process.exitCode ?? 0);
});
process.exitCode = linuxFetchMain(process.argv.slice(2));
