/**
 * The WHATWG Encoding API (TextEncoder/TextDecoder), present in every runtime
 * hvkit's isomorphic packages target: browsers, Node.js, Deno, Bun. Declared
 * here for builds that include no DOM or Node.js type libraries.
 */
interface TextEncoder {
  encode(input?: string): Uint8Array;
}
declare var TextEncoder: { prototype: TextEncoder; new (): TextEncoder };

interface TextDecoder {
  decode(input?: ArrayBufferView | ArrayBuffer): string;
}
declare var TextDecoder: {
  prototype: TextDecoder;
  new (label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean }): TextDecoder;
};
