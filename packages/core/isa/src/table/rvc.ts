import type { Def16 } from "./spec.js";

/**
 * C: compressed instructions for RV64 (unprivileged spec, chapter "C" —
 * RVC instruction listings by quadrant). `expand` gives the 32-bit
 * instruction each one stands for; encodings the spec marks reserved are
 * excluded through `nonzero`.
 */
export const RV64C: readonly Def16[] = [
  // Quadrant 0
  {
    name: "c.addi4spn",
    bits: "000 -------- --- 00",
    syntax: "crdp,sp,caddi4spn",
    expand: ["addi", "crdp", 2, "caddi4spn"],
    nonzero: ["caddi4spn"],
  },
  {
    name: "c.fld",
    bits: "001 --- --- -- --- 00",
    syntax: "cfdp,cld(crs1p)",
    expand: ["fld", "cfdp", "cld", "crs1p"],
  },
  {
    name: "c.lw",
    bits: "010 --- --- -- --- 00",
    syntax: "crdp,clw(crs1p)",
    expand: ["lw", "crdp", "clw", "crs1p"],
  },
  {
    name: "c.ld",
    bits: "011 --- --- -- --- 00",
    syntax: "crdp,cld(crs1p)",
    expand: ["ld", "crdp", "cld", "crs1p"],
  },
  {
    name: "c.fsd",
    bits: "101 --- --- -- --- 00",
    syntax: "cfs2p,cld(crs1p)",
    expand: ["fsd", "cfs2p", "cld", "crs1p"],
  },
  {
    name: "c.sw",
    bits: "110 --- --- -- --- 00",
    syntax: "crs2p,clw(crs1p)",
    expand: ["sw", "crs2p", "clw", "crs1p"],
  },
  {
    name: "c.sd",
    bits: "111 --- --- -- --- 00",
    syntax: "crs2p,cld(crs1p)",
    expand: ["sd", "crs2p", "cld", "crs1p"],
  },

  // Quadrant 1
  { name: "c.nop", bits: "000 0 00000 00000 01", syntax: "", expand: ["addi", 0, 0, 0] },
  {
    name: "c.addi",
    bits: "000 - ----- ----- 01",
    syntax: "crd,cimm6",
    expand: ["addi", "crd", "crd", "cimm6"],
  },
  {
    name: "c.addiw",
    bits: "001 - ----- ----- 01",
    syntax: "crd,cimm6",
    expand: ["addiw", "crd", "crd", "cimm6"],
    nonzero: ["crd"],
  },
  { name: "c.li", bits: "010 - ----- ----- 01", syntax: "crd,cimm6", expand: ["addi", "crd", 0, "cimm6"] },
  {
    name: "c.addi16sp",
    bits: "011 - 00010 ----- 01",
    syntax: "sp,caddi16sp",
    expand: ["addi", 2, 2, "caddi16sp"],
    nonzero: ["caddi16sp"],
  },
  {
    name: "c.lui",
    bits: "011 - ----- ----- 01",
    syntax: "crd,clui",
    expand: ["lui", "crd", "clui"],
    nonzero: ["clui"],
  },
  {
    name: "c.srli",
    bits: "100 - 00 --- ----- 01",
    syntax: "crs1p,cshamt",
    expand: ["srli", "crs1p", "crs1p", "cshamt"],
  },
  {
    name: "c.srai",
    bits: "100 - 01 --- ----- 01",
    syntax: "crs1p,cshamt",
    expand: ["srai", "crs1p", "crs1p", "cshamt"],
  },
  {
    name: "c.andi",
    bits: "100 - 10 --- ----- 01",
    syntax: "crs1p,cimm6",
    expand: ["andi", "crs1p", "crs1p", "cimm6"],
  },
  {
    name: "c.sub",
    bits: "100 0 11 --- 00 --- 01",
    syntax: "crs1p,crs2p",
    expand: ["sub", "crs1p", "crs1p", "crs2p"],
  },
  {
    name: "c.xor",
    bits: "100 0 11 --- 01 --- 01",
    syntax: "crs1p,crs2p",
    expand: ["xor", "crs1p", "crs1p", "crs2p"],
  },
  {
    name: "c.or",
    bits: "100 0 11 --- 10 --- 01",
    syntax: "crs1p,crs2p",
    expand: ["or", "crs1p", "crs1p", "crs2p"],
  },
  {
    name: "c.and",
    bits: "100 0 11 --- 11 --- 01",
    syntax: "crs1p,crs2p",
    expand: ["and", "crs1p", "crs1p", "crs2p"],
  },
  {
    name: "c.subw",
    bits: "100 1 11 --- 00 --- 01",
    syntax: "crs1p,crs2p",
    expand: ["subw", "crs1p", "crs1p", "crs2p"],
  },
  {
    name: "c.addw",
    bits: "100 1 11 --- 01 --- 01",
    syntax: "crs1p,crs2p",
    expand: ["addw", "crs1p", "crs1p", "crs2p"],
  },
  { name: "c.j", bits: "101 ----------- 01", syntax: "cjoff", expand: ["jal", 0, "cjoff"] },
  {
    name: "c.beqz",
    bits: "110 --- --- ----- 01",
    syntax: "crs1p,cboff",
    expand: ["beq", "crs1p", 0, "cboff"],
  },
  {
    name: "c.bnez",
    bits: "111 --- --- ----- 01",
    syntax: "crs1p,cboff",
    expand: ["bne", "crs1p", 0, "cboff"],
  },

  // Quadrant 2
  {
    name: "c.slli",
    bits: "000 - ----- ----- 10",
    syntax: "crd,cshamt",
    expand: ["slli", "crd", "crd", "cshamt"],
  },
  {
    name: "c.fldsp",
    bits: "001 - ----- ----- 10",
    syntax: "cfd,cldsp(sp)",
    expand: ["fld", "cfd", "cldsp", 2],
  },
  {
    name: "c.lwsp",
    bits: "010 - ----- ----- 10",
    syntax: "crd,clwsp(sp)",
    expand: ["lw", "crd", "clwsp", 2],
    nonzero: ["crd"],
  },
  {
    name: "c.ldsp",
    bits: "011 - ----- ----- 10",
    syntax: "crd,cldsp(sp)",
    expand: ["ld", "crd", "cldsp", 2],
    nonzero: ["crd"],
  },
  {
    name: "c.jr",
    bits: "100 0 ----- 00000 10",
    syntax: "crs1",
    expand: ["jalr", 0, 0, "crs1"],
    nonzero: ["crs1"],
  },
  {
    name: "c.mv",
    bits: "100 0 ----- ----- 10",
    syntax: "crd,crs2",
    expand: ["add", "crd", 0, "crs2"],
    nonzero: ["crs2"],
  },
  { name: "c.ebreak", bits: "100 1 00000 00000 10", syntax: "", expand: ["ebreak"] },
  {
    name: "c.jalr",
    bits: "100 1 ----- 00000 10",
    syntax: "crs1",
    expand: ["jalr", 1, 0, "crs1"],
    nonzero: ["crs1"],
  },
  {
    name: "c.add",
    bits: "100 1 ----- ----- 10",
    syntax: "crd,crs2",
    expand: ["add", "crd", "crd", "crs2"],
    nonzero: ["crs2"],
  },
  {
    name: "c.fsdsp",
    bits: "101 ------ ----- 10",
    syntax: "cfs2,csdsp(sp)",
    expand: ["fsd", "cfs2", "csdsp", 2],
  },
  {
    name: "c.swsp",
    bits: "110 ------ ----- 10",
    syntax: "crs2,cswsp(sp)",
    expand: ["sw", "crs2", "cswsp", 2],
  },
  {
    name: "c.sdsp",
    bits: "111 ------ ----- 10",
    syntax: "crs2,csdsp(sp)",
    expand: ["sd", "crs2", "csdsp", 2],
  },
];
