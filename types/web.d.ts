/**
 * The small set of Web platform APIs hvkit's isomorphic packages use, present
 * in every runtime they target (browsers, Node.js, Deno, Bun): the Encoding
 * API (TextEncoder/TextDecoder) and High Resolution Time (performance.now).
 * Declared here for builds that include no DOM or Node.js type libraries, so
 * a package cannot reach for anything else by accident.
 */
interface TextEncoder {
  encode(input?: string): Uint8Array;
}
declare var TextEncoder: { prototype: TextEncoder; new (): TextEncoder };

interface TextDecoder {
  decode(input?: ArrayBufferView | ArrayBuffer, options?: { stream?: boolean }): string;
}
declare var TextDecoder: {
  prototype: TextDecoder;
  new (label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean }): TextDecoder;
};

interface Performance {
  now(): number;
}
declare var performance: Performance;
