/**
 * `pnpm guests:build`: rebuild packages/guests/images from packages/guests/kernel.
 * `pnpm guests:build --check`: rebuild into a temporary directory and fail
 * (exit 1) when the committed images or manifest differ from the sources.
 */
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { GuestsError } from "../errors.js";
import {
  buildGuestImages,
  checkGuestImages,
  GUEST_IMAGE_DIR,
  guestSourcesDigest,
  readGuestImagesManifest,
} from "./build-images.js";

/** Returns the process exit code. */
export async function guestsBuildMain(
  argv: readonly string[],
  io: { out: (l: string) => void; err: (l: string) => void } = {
    out: (l) => console.log(l),
    err: (l) => console.error(l),
  },
): Promise<number> {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        check: { type: "boolean" },
        out: { type: "string", short: "o" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      io.out("usage: pnpm guests:build [--out <dir>] | pnpm guests:build --check");
      return 0;
    }
    if (values.check) {
      const r = await checkGuestImages();
      if (r.identical) {
        io.out(`guests: the committed images in ${GUEST_IMAGE_DIR} match their sources`);
        return 0;
      }
      const committed = readGuestImagesManifest();
      if (r.toolchainMismatch && committed?.sourcesSha256 === guestSourcesDigest()) {
        // Another compiler generates other code: bytes are comparable only with the recorded toolchain.
        io.out(
          `guests: not comparing bytes: the images were built with "${r.toolchainMismatch.committed.clang}" and ` +
            `"${r.toolchainMismatch.committed.lld}", this is "${r.toolchainMismatch.local.clang}"; ` +
            "the sources digest in the manifest matches the sources",
        );
        return 0;
      }
      io.err(`guests: rebuilt images differ from the committed ones: ${r.differing.join(", ")}`);
      io.err("guests: run `pnpm guests:build` and commit packages/guests/images");
      return 1;
    }
    const m = await buildGuestImages({
      log: io.out,
      ...(values.out !== undefined ? { outDir: values.out } : {}),
    });
    io.out(`guests: built with ${m.toolchain.clang}; sources ${m.sourcesSha256.slice(0, 16)}`);
    return 0;
  } catch (e) {
    io.err(`guests:build: ${e instanceof Error ? e.message : String(e)}`);
    return e instanceof GuestsError ? 1 : 2;
  }
}

// Run only as a program (`pnpm guests:build`), not when imported.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await guestsBuildMain(process.argv.slice(2));
}
