/**
 * Dispatch from a decoded F/D computational instruction to the FPU method
 * that implements it. The mapping is built from the ISA table by mnemonic,
 * so every F/D instruction of the table is covered (checked at load time).
 */
import { INSTRUCTIONS } from "@hvkit/isa";
import type { Fpu } from "./fpu.js";

enum F {
  NONE = 0,
  FADD_D,
  FSUB_D,
  FMUL_D,
  FDIV_D,
  FSQRT_D,
  FMADD_D,
  FMSUB_D,
  FNMSUB_D,
  FNMADD_D,
  FSGNJ_D,
  FSGNJN_D,
  FSGNJX_D,
  FMIN_D,
  FMAX_D,
  FEQ_D,
  FLT_D,
  FLE_D,
  FCLASS_D,
  FCVT_W_D,
  FCVT_WU_D,
  FCVT_L_D,
  FCVT_LU_D,
  FCVT_D_W,
  FCVT_D_WU,
  FCVT_D_L,
  FCVT_D_LU,
  FADD_S,
  FSUB_S,
  FMUL_S,
  FDIV_S,
  FSQRT_S,
  FMADD_S,
  FMSUB_S,
  FNMSUB_S,
  FNMADD_S,
  FSGNJ_S,
  FSGNJN_S,
  FSGNJX_S,
  FMIN_S,
  FMAX_S,
  FEQ_S,
  FLT_S,
  FLE_S,
  FCLASS_S,
  FCVT_W_S,
  FCVT_WU_S,
  FCVT_L_S,
  FCVT_LU_S,
  FCVT_S_W,
  FCVT_S_WU,
  FCVT_S_L,
  FCVT_S_LU,
  FMV_X_D,
  FMV_D_X,
  FMV_X_W,
  FMV_W_X,
  FCVT_S_D,
  FCVT_D_S,
}

const BY_NAME: Record<string, F> = {
  "fadd.d": F.FADD_D,
  "fsub.d": F.FSUB_D,
  "fmul.d": F.FMUL_D,
  "fdiv.d": F.FDIV_D,
  "fsqrt.d": F.FSQRT_D,
  "fmadd.d": F.FMADD_D,
  "fmsub.d": F.FMSUB_D,
  "fnmsub.d": F.FNMSUB_D,
  "fnmadd.d": F.FNMADD_D,
  "fsgnj.d": F.FSGNJ_D,
  "fsgnjn.d": F.FSGNJN_D,
  "fsgnjx.d": F.FSGNJX_D,
  "fmin.d": F.FMIN_D,
  "fmax.d": F.FMAX_D,
  "feq.d": F.FEQ_D,
  "flt.d": F.FLT_D,
  "fle.d": F.FLE_D,
  "fclass.d": F.FCLASS_D,
  "fcvt.w.d": F.FCVT_W_D,
  "fcvt.wu.d": F.FCVT_WU_D,
  "fcvt.l.d": F.FCVT_L_D,
  "fcvt.lu.d": F.FCVT_LU_D,
  "fcvt.d.w": F.FCVT_D_W,
  "fcvt.d.wu": F.FCVT_D_WU,
  "fcvt.d.l": F.FCVT_D_L,
  "fcvt.d.lu": F.FCVT_D_LU,
  "fadd.s": F.FADD_S,
  "fsub.s": F.FSUB_S,
  "fmul.s": F.FMUL_S,
  "fdiv.s": F.FDIV_S,
  "fsqrt.s": F.FSQRT_S,
  "fmadd.s": F.FMADD_S,
  "fmsub.s": F.FMSUB_S,
  "fnmsub.s": F.FNMSUB_S,
  "fnmadd.s": F.FNMADD_S,
  "fsgnj.s": F.FSGNJ_S,
  "fsgnjn.s": F.FSGNJN_S,
  "fsgnjx.s": F.FSGNJX_S,
  "fmin.s": F.FMIN_S,
  "fmax.s": F.FMAX_S,
  "feq.s": F.FEQ_S,
  "flt.s": F.FLT_S,
  "fle.s": F.FLE_S,
  "fclass.s": F.FCLASS_S,
  "fcvt.w.s": F.FCVT_W_S,
  "fcvt.wu.s": F.FCVT_WU_S,
  "fcvt.l.s": F.FCVT_L_S,
  "fcvt.lu.s": F.FCVT_LU_S,
  "fcvt.s.w": F.FCVT_S_W,
  "fcvt.s.wu": F.FCVT_S_WU,
  "fcvt.s.l": F.FCVT_S_L,
  "fcvt.s.lu": F.FCVT_S_LU,
  "fmv.x.d": F.FMV_X_D,
  "fmv.d.x": F.FMV_D_X,
  "fmv.x.w": F.FMV_X_W,
  "fmv.w.x": F.FMV_W_X,
  "fcvt.s.d": F.FCVT_S_D,
  "fcvt.d.s": F.FCVT_D_S,
};

/** FPU operation by ISA instruction id. */
const F_OF_ISA = new Uint8Array(INSTRUCTIONS.length);
for (const insn of INSTRUCTIONS) {
  if (insn.ext !== "F" && insn.ext !== "D") continue;
  if (/^f(l|s)[wd]$/.test(insn.name)) continue; // loads and stores are the hart's
  const f = BY_NAME[insn.name];
  if (f === undefined) throw new Error(`cpu: no FPU operation for ${insn.name}`);
  F_OF_ISA[insn.id] = f;
}

/**
 * Execute F/D instruction `isaId` with register numbers and the rm field.
 * Returns false when the instruction must raise illegal-instruction (reserved rounding mode).
 */
export function executeFloat(
  fpu: Fpu,
  isaId: number,
  rd: number,
  rs1: number,
  rs2: number,
  rs3: number,
  rm: number,
): boolean {
  switch (F_OF_ISA[isaId]) {
    case F.FADD_D:
      return fpu.faddD(rd, rs1, rs2, rm);
    case F.FSUB_D:
      return fpu.fsubD(rd, rs1, rs2, rm);
    case F.FMUL_D:
      return fpu.fmulD(rd, rs1, rs2, rm);
    case F.FDIV_D:
      return fpu.fdivD(rd, rs1, rs2, rm);
    case F.FSQRT_D:
      return fpu.fsqrtD(rd, rs1, rm);
    case F.FMADD_D:
      return fpu.fmaddD(rd, rs1, rs2, rs3, rm);
    case F.FMSUB_D:
      return fpu.fmsubD(rd, rs1, rs2, rs3, rm);
    case F.FNMSUB_D:
      return fpu.fnmsubD(rd, rs1, rs2, rs3, rm);
    case F.FNMADD_D:
      return fpu.fnmaddD(rd, rs1, rs2, rs3, rm);
    case F.FSGNJ_D:
      fpu.fsgnjD(rd, rs1, rs2);
      return true;
    case F.FSGNJN_D:
      fpu.fsgnjnD(rd, rs1, rs2);
      return true;
    case F.FSGNJX_D:
      fpu.fsgnjxD(rd, rs1, rs2);
      return true;
    case F.FMIN_D:
      fpu.fminD(rd, rs1, rs2);
      return true;
    case F.FMAX_D:
      fpu.fmaxD(rd, rs1, rs2);
      return true;
    case F.FEQ_D:
      fpu.feqD(rd, rs1, rs2);
      return true;
    case F.FLT_D:
      fpu.fltD(rd, rs1, rs2);
      return true;
    case F.FLE_D:
      fpu.fleD(rd, rs1, rs2);
      return true;
    case F.FCLASS_D:
      fpu.fclassD(rd, rs1);
      return true;
    case F.FCVT_W_D:
      return fpu.fcvtWD(rd, rs1, rm);
    case F.FCVT_WU_D:
      return fpu.fcvtWuD(rd, rs1, rm);
    case F.FCVT_L_D:
      return fpu.fcvtLD(rd, rs1, rm);
    case F.FCVT_LU_D:
      return fpu.fcvtLuD(rd, rs1, rm);
    case F.FCVT_D_W:
      return fpu.fcvtDW(rd, rs1, rm);
    case F.FCVT_D_WU:
      return fpu.fcvtDWu(rd, rs1, rm);
    case F.FCVT_D_L:
      return fpu.fcvtDL(rd, rs1, rm);
    case F.FCVT_D_LU:
      return fpu.fcvtDLu(rd, rs1, rm);
    case F.FADD_S:
      return fpu.faddS(rd, rs1, rs2, rm);
    case F.FSUB_S:
      return fpu.fsubS(rd, rs1, rs2, rm);
    case F.FMUL_S:
      return fpu.fmulS(rd, rs1, rs2, rm);
    case F.FDIV_S:
      return fpu.fdivS(rd, rs1, rs2, rm);
    case F.FSQRT_S:
      return fpu.fsqrtS(rd, rs1, rm);
    case F.FMADD_S:
      return fpu.fmaddS(rd, rs1, rs2, rs3, rm);
    case F.FMSUB_S:
      return fpu.fmsubS(rd, rs1, rs2, rs3, rm);
    case F.FNMSUB_S:
      return fpu.fnmsubS(rd, rs1, rs2, rs3, rm);
    case F.FNMADD_S:
      return fpu.fnmaddS(rd, rs1, rs2, rs3, rm);
    case F.FSGNJ_S:
      fpu.fsgnjS(rd, rs1, rs2);
      return true;
    case F.FSGNJN_S:
      fpu.fsgnjnS(rd, rs1, rs2);
      return true;
    case F.FSGNJX_S:
      fpu.fsgnjxS(rd, rs1, rs2);
      return true;
    case F.FMIN_S:
      fpu.fminS(rd, rs1, rs2);
      return true;
    case F.FMAX_S:
      fpu.fmaxS(rd, rs1, rs2);
      return true;
    case F.FEQ_S:
      fpu.feqS(rd, rs1, rs2);
      return true;
    case F.FLT_S:
      fpu.fltS(rd, rs1, rs2);
      return true;
    case F.FLE_S:
      fpu.fleS(rd, rs1, rs2);
      return true;
    case F.FCLASS_S:
      fpu.fclassS(rd, rs1);
      return true;
    case F.FCVT_W_S:
      return fpu.fcvtWS(rd, rs1, rm);
    case F.FCVT_WU_S:
      return fpu.fcvtWuS(rd, rs1, rm);
    case F.FCVT_L_S:
      return fpu.fcvtLS(rd, rs1, rm);
    case F.FCVT_LU_S:
      return fpu.fcvtLuS(rd, rs1, rm);
    case F.FCVT_S_W:
      return fpu.fcvtSW(rd, rs1, rm);
    case F.FCVT_S_WU:
      return fpu.fcvtSWu(rd, rs1, rm);
    case F.FCVT_S_L:
      return fpu.fcvtSL(rd, rs1, rm);
    case F.FCVT_S_LU:
      return fpu.fcvtSLu(rd, rs1, rm);
    case F.FMV_X_D:
      fpu.fmvXD(rd, rs1);
      return true;
    case F.FMV_D_X:
      fpu.fmvDX(rd, rs1);
      return true;
    case F.FMV_X_W:
      fpu.fmvXW(rd, rs1);
      return true;
    case F.FMV_W_X:
      fpu.fmvWX(rd, rs1);
      return true;
    case F.FCVT_S_D:
      return fpu.fcvtSD(rd, rs1, rm);
    case F.FCVT_D_S:
      return fpu.fcvtDS(rd, rs1, rm);
  }
  return false;
}
