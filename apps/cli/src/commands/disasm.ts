/**
 * `hvkit disasm`: an llvm-objdump -d listing of a RISC-V ELF file.
 *
 * The layout reproduces llvm-objdump 14 byte for byte, including its
 * choices about symbols: which symbol heads a block when several share an
 * address, the `<section>` heading when no symbol starts a section, data
 * symbols in code dumped as bytes, runs of zero bytes elided as `...`, and
 * branch targets named after the nearest preceding symbol. The comments
 * cite the llvm-objdump behaviour each piece reproduces.
 */
import {
  disassemble,
  type ElfFile,
  type ElfSection,
  ET_REL,
  readElf,
  SHF_EXECINSTR,
  SHN_LORESERVE,
  SHT_NOBITS,
  STT_COMMON,
  STT_FUNC,
  STT_OBJECT,
  STT_SECTION,
} from "@hvkit/isa";
import { CliError, type Io } from "../io.js";

/** Options of {@link formatDisassembly}. */
export interface DisasmOptions {
  /** Print pseudo-instructions and compressed instructions through their expansion (llvm-objdump's default). */
  aliases: boolean;
  /** Only these sections (default: every executable section). */
  sections?: readonly string[];
}

interface Sym {
  addr: bigint;
  name: string;
  type: number;
}

/** llvm-objdump's symbol order: address, then name, then type (SymbolInfoTy's operator<). */
function compareSyms(a: Sym, b: Sym): number {
  if (a.addr !== b.addr) return a.addr < b.addr ? -1 : 1;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return a.type - b.type;
}

/**
 * The first element for which `pred` is false, found by the same bisection
 * as std::partition_point, so lists that are not quite sorted (the section
 * dummy symbol is put in front unconditionally) give llvm-objdump's answer.
 */
function partitionPoint<T>(list: readonly T[], pred: (x: T) => boolean): number {
  let first = 0;
  let len = list.length;
  while (len > 0) {
    const half = len >> 1;
    const middle = first + half;
    if (pred(list[middle]!)) {
      first = middle + 1;
      len = len - half - 1;
    } else {
      len = half;
    }
  }
  return first;
}

const hex = (v: bigint | number): string => v.toString(16);

const isPrint = (b: number): boolean => b >= 0x20 && b < 0x7f;

/** Pad after the raw bytes so the tab that follows lands on column 24 (llvm-objdump's instruction column). */
function padToInstructionColumn(line: string): string {
  const col = line.length;
  return line + " ".repeat(col < 23 ? 23 - col : 7 - (col % 8));
}

function rawBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

/** A data symbol's bytes, 8 per line with their ASCII (llvm-objdump's dumpELFData). */
function dumpData(out: string[], sectionAddr: bigint, data: Uint8Array, start: number, end: number): void {
  for (let i = start; i < end; i += 8) {
    const chunk = data.subarray(i, Math.min(i + 8, end));
    let line = `${hex(sectionAddr + BigInt(i)).padStart(8)}:`;
    for (const b of chunk) line += ` ${b.toString(16).padStart(2, "0")}`;
    line += " ".repeat(3 * (8 - chunk.length) + 9);
    line += Array.from(chunk, (b) => (isPrint(b) ? String.fromCharCode(b) : ".")).join("");
    out.push(line);
  }
}

/** Zero bytes to skip at `at`: runs of at least 8, in whole words (llvm-objdump's countSkippableZeroBytes). */
function skippableZeros(data: Uint8Array, at: number, end: number): number {
  let n = 0;
  while (at + n < end && data[at + n] === 0) n++;
  return n < 8 ? 0 : n & ~3;
}

/**
 * Render the llvm-objdump -d listing of `elf`, as if the file had been
 * named `fileName` on its command line.
 */
export function formatDisassembly(elf: ElfFile, fileName: string, options: DisasmOptions): string {
  const out: string[] = ["", `${fileName}:\tfile format elf64-littleriscv`];

  // Symbols by section; symbols outside any section (undefined, absolute, common, file) are the last resort.
  const bySection = new Map<number, Sym[]>();
  const absolute: Sym[] = [];
  for (const s of elf.symbols) {
    if (s.name === "" || s.type === STT_SECTION) continue;
    const sym = { addr: s.value, name: s.name, type: s.type };
    if (s.sectionIndex !== 0 && s.sectionIndex < SHN_LORESERVE && elf.sections[s.sectionIndex]) {
      const list = bySection.get(s.sectionIndex) ?? [];
      list.push(sym);
      bySection.set(s.sectionIndex, list);
    } else {
      absolute.push(sym);
    }
  }
  for (const list of bySection.values()) list.sort(compareSyms);
  absolute.sort(compareSyms);

  // Sections by address; empty sections first among equals so lookups prefer the non-empty one.
  const byAddress = elf.sections
    .map((s) => s)
    .sort((a, b) => (a.address !== b.address ? (a.address < b.address ? -1 : 1) : a.size - b.size));
  const relocatable = elf.type === ET_REL;

  let current: Sym[] = [];
  /** llvm-objdump's branch-target naming: the last symbol at or before the target in the candidate sections. */
  const symbolize = (target: bigint): string | undefined => {
    const candidates: Sym[][] = [];
    if (relocatable) {
      candidates.push(current);
    } else {
      let i = partitionPoint(byAddress, (s) => s.address <= target);
      let secAddr: bigint | undefined;
      while (i > 0) {
        i--;
        const s = byAddress[i]!;
        secAddr ??= s.address;
        if (s.address !== secAddr) break;
        candidates.push(bySection.get(s.index) ?? []);
      }
    }
    candidates.push(absolute);
    for (const list of candidates) {
      const k = partitionPoint(list, (s) => s.addr <= target);
      if (k > 0) {
        const sym = list[k - 1]!;
        const disp = target - sym.addr;
        return disp === 0n ? sym.name : `${sym.name}+0x${hex(disp)}`;
      }
    }
    return undefined;
  };

  const wanted = (s: ElfSection): boolean =>
    options.sections ? options.sections.includes(s.name) : (s.flags & SHF_EXECINSTR) !== 0n;

  for (const section of elf.sections) {
    if (!wanted(section) || (section.flags & SHF_EXECINSTR) === 0n || section.type === SHT_NOBITS) continue;
    out.push("", `Disassembly of section ${section.name}:`);
    const secAddr = section.address;
    const data = section.data;
    const size = BigInt(data.length);
    // The per-section list gains a dummy symbol named after the section when
    // none sits at address 0 — llvm-objdump tests the address against 0, not
    // the section start, so in executables the dummy is always added and is
    // hidden by any real symbol at the section start.
    let symbols = bySection.get(section.index) ?? [];
    if (symbols.length === 0 || symbols[0]!.addr !== 0n) {
      symbols = [{ addr: secAddr, name: section.name, type: STT_FUNC }, ...symbols];
      bySection.set(section.index, symbols);
    }
    current = symbols;

    for (let si = 0; si < symbols.length; si++) {
      const sym = symbols[si]!;
      if (sym.addr < secAddr) continue;
      let endAddr = secAddr + size;
      if (si + 1 < symbols.length && symbols[si + 1]!.addr < endAddr) endAddr = symbols[si + 1]!.addr;
      // Several symbols at one address: only the last (in name order) gets a block.
      if (sym.addr >= endAddr) continue;
      const start = Number(sym.addr - secAddr);
      const end = Number(endAddr - secAddr);
      out.push("", `${hex(sym.addr).padStart(16, "0")} <${sym.name}>:`);
      if (sym.type === STT_OBJECT || sym.type === STT_COMMON) {
        dumpData(out, secAddr, data, start, end);
        continue;
      }
      let i = start;
      while (i < end) {
        const zeros = skippableZeros(data, i, end);
        if (zeros > 0) {
          out.push("\t\t...");
          i += zeros;
          continue;
        }
        const pc = secAddr + BigInt(i);
        // An instruction may run past its symbol's end, but never past the section's.
        const length = (data[i]! & 3) === 3 ? 4 : 2;
        const prefix = `${hex(pc).padStart(8)}:`;
        if (i + length > data.length) {
          out.push(`${padToInstructionColumn(`${prefix} ${rawBytes(data.subarray(i, i + 1))}`)}\t<unknown>`);
          i += 1;
          continue;
        }
        const bytes = data.subarray(i, i + length);
        const bits =
          length === 4
            ? (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0
            : bytes[0]! | (bytes[1]! << 8);
        const d = disassemble(bits, pc, { aliases: options.aliases, symbolize });
        // LLVM prints a real instruction as mnemonic<tab>operands even with no operands; an alias without the tab.
        const text = d.operands || !d.alias ? `${d.mnemonic}\t${d.operands}` : d.mnemonic;
        out.push(`${padToInstructionColumn(`${prefix} ${rawBytes(bytes)}`)}\t${text}`);
        i += length;
      }
    }
  }
  return `${out.join("\n")}\n`;
}

/** Sections that `names` asks for, checked to exist and hold code. */
function checkSections(elf: ElfFile, names: readonly string[], file: string): void {
  for (const name of names) {
    const s = elf.sections.find((x) => x.name === name);
    if (!s) {
      const code = elf.sections.filter((x) => (x.flags & SHF_EXECINSTR) !== 0n).map((x) => x.name);
      throw new CliError(
        "CLI_NO_SUCH_SECTION",
        `${file} has no section ${name}; its executable sections are: ${code.join(", ") || "(none)"}`,
      );
    }
    if ((s.flags & SHF_EXECINSTR) === 0n || s.type === SHT_NOBITS) {
      throw new CliError(
        "CLI_NOT_CODE",
        `section ${name} of ${file} holds no instructions (it is not executable)`,
      );
    }
  }
}

/** Run `hvkit disasm FILE`: read, parse and print the listing. */
export function runDisasm(file: string, options: DisasmOptions, io: Io): void {
  const elf = readElf(io.readFile(file));
  if (options.sections) checkSections(elf, options.sections, file);
  io.stdout(formatDisassembly(elf, file, options));
}
