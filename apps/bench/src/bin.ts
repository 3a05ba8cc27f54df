/** Entry point of `pnpm bench` and `pnpm bench:compare` (run from source with tsx). */
import { main } from "./cli.js";

process.exitCode = await main(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: process.stderr,
  color: process.stdout.isTTY === true && !process.env.NO_COLOR,
});
