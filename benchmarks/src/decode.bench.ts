/**
 * Decoder throughput: how many instructions per second the table-derived
 * decoder classifies. The words are real compiler output shapes (a mix of
 * compressed and 32-bit, integer, memory, branch and FP instructions) so the
 * bucket scan lengths are representative.
 */
import { compressedExpansionTable, decode, decode32, encode, ILLEGAL } from "@hvkit/isa";
import b from "benny";

const SAMPLE: number[] = [
  encode("addi", [10, 10, -1]),
  encode("ld", [1, 24, 2]),
  encode("sd", [8, 16, 2]),
  encode("add", [10, 11, 12]),
  encode("beq", [10, 11, 64]),
  encode("jal", [1, 2048]),
  encode("lui", [5, 0x12345]),
  encode("mul", [10, 11, 12]),
  encode("fadd.d", [10, 11, 12, 7]),
  encode("amoadd.w", [10, 11, 12]),
  encode("csrrs", [10, 0x100, 0]),
  0x1101, // c.addi sp, -32
  0xec06, // c.sdsp ra, 24(sp)
  0x84aa, // c.mv s1, a0
  0x8082, // c.jr ra
  0x4501, // c.li a0, 0
];
const N = 4096;
const words = new Int32Array(N);
for (let i = 0; i < N; i++) words[i] = SAMPLE[(i * 7) % SAMPLE.length]! | 0;
for (const w of words)
  if (decode(w) === ILLEGAL) throw new Error(`benchmark sample ${w.toString(16)} does not decode`);

const expansion = compressedExpansionTable();

export function decodeSuite(): Promise<unknown> {
  return b.suite(
    "isa decode (4096 mixed instructions per op)",
    b.add("decode (compressed decoded directly)", () => {
      let acc = 0;
      for (let i = 0; i < N; i++) acc = (acc + decode(words[i]!)) | 0;
      return acc;
    }),
    b.add("interpreter path: expand via table, then decode32", () => {
      let acc = 0;
      for (let i = 0; i < N; i++) {
        const w = words[i]!;
        acc = (acc + decode32((w & 3) === 3 ? w : expansion[w & 0xffff]!)) | 0;
      }
      return acc;
    }),
    b.cycle((result: { name: string; ops: number; margin: number }) => {
      const perSecond = (result.ops * N) / 1e6;
      return `  ${result.name}: ${perSecond.toFixed(1)} M decodes/s (±${result.margin}%)`;
    }),
    b.complete(),
  );
}
