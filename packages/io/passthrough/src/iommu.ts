/**
 * An IOMMU model: per-VM DMA remapping, in the role the RISC-V IOMMU's
 * second stage (iohgatp) or an Intel VT-d / AMD-Vi domain plays. A device
 * assigned to a VM issues DMA with the addresses the guest's driver gave it:
 * guest-physical addresses (IOVAs). The VMM gives the device one
 * {@link IommuDomain}: page tables that translate those to host-physical
 * addresses, filled with the VM's own RAM and nothing else. A DMA to any
 * page the domain does not map is refused and recorded as a fault; the
 * device never gets a host address outside the VM.
 *
 * Tables: two levels over the 32-bit guest-physical space (1,024 tables of
 * 1,024 entries, allocated as they fill; an entry is the host page number
 * + 1, 0 for unmapped), in typed arrays. A translation walks them once per
 * page of the range and allocates nothing.
 */
import { PassthroughError } from "./errors.js";

const PAGE = 4096;
const ENTRIES = 1024;
/** Faults kept in the log (the oldest are overwritten). */
export const IOMMU_FAULT_LOG = 16;

/** Why a DMA was refused. */
export const IOMMU_FAULT = {
  /** A page of the range is not mapped in the domain (outside the VM's memory). */
  UNMAPPED: 1,
  /** The range's address or length is out of the 32-bit space or negative. */
  RANGE: 2,
  /** The range's pages are not contiguous in host memory (the device needs one host range). */
  SPLIT: 3,
} as const;

/** One recorded fault. */
export interface IommuFault {
  /** The IOVA (guest-physical address) the device used. */
  iova: number;
  /** Bytes it asked for. */
  length: number;
  /** An {@link IOMMU_FAULT} code. */
  reason: number;
}

/** Counters of a domain. */
export interface IommuCounters {
  /** DMA ranges translated. */
  translations: number;
  /** DMA ranges refused. */
  faults: number;
  /** Pages mapped now. */
  mappedPages: number;
}

/** Options of {@link IommuDomain}. */
export interface IommuDomainOptions {
  /** Host-physical memory the device could reach without an IOMMU (the machine's whole RAM). */
  hostMemory: Uint8Array;
  /** Host-physical address of hostMemory[0]. */
  hostBase: number;
  /** The part of host memory that belongs to the VM: the only pages {@link IommuDomain.map} accepts. */
  vm: { base: number; size: number };
}

/** One VM's DMA address space: see the file comment. */
export class IommuDomain {
  /** Counters (read them, do not write). */
  readonly stats: IommuCounters = { translations: 0, faults: 0, mappedPages: 0 };
  /** Host-physical address of the last successful translation. */
  lastHpa = 0;
  private readonly hostBase: number;
  private readonly hostSize: number;
  private readonly vmBase: number;
  private readonly vmEnd: number;
  private readonly dir: (Int32Array | undefined)[] = new Array(ENTRIES).fill(undefined);
  private readonly log = new Float64Array(IOMMU_FAULT_LOG * 3);
  private logged = 0;

  constructor(options: IommuDomainOptions) {
    const { hostMemory, hostBase, vm } = options;
    if (
      !(hostMemory instanceof Uint8Array) ||
      !Number.isInteger(hostBase) ||
      hostBase % PAGE !== 0 ||
      !Number.isInteger(vm.base) ||
      !Number.isInteger(vm.size) ||
      vm.base % PAGE !== 0 ||
      vm.size % PAGE !== 0 ||
      vm.base < hostBase ||
      vm.base + vm.size > hostBase + hostMemory.length
    ) {
      throw new PassthroughError(
        "PASSTHROUGH_BAD_CONFIG",
        "IOMMU domain: the VM's memory must be whole pages inside host memory",
      );
    }
    this.hostBase = hostBase;
    this.hostSize = hostMemory.length;
    this.vmBase = vm.base;
    this.vmEnd = vm.base + vm.size;
  }

  /**
   * Map IOVAs [iova, iova+size) to host-physical [hpa, hpa+size): whole
   * pages, the host range inside the VM's memory (anything else throws
   * PASSTHROUGH_BAD_MAPPING: the VMM never lets a device reach beyond its VM).
   */
  map(iova: number, hpa: number, size: number): void {
    if (
      !Number.isInteger(iova) ||
      !Number.isInteger(hpa) ||
      !Number.isInteger(size) ||
      size <= 0 ||
      iova % PAGE !== 0 ||
      hpa % PAGE !== 0 ||
      size % PAGE !== 0 ||
      iova < 0 ||
      iova + size > 2 ** 32
    ) {
      throw new PassthroughError(
        "PASSTHROUGH_BAD_MAPPING",
        `IOMMU map 0x${iova.toString(16)} -> 0x${hpa.toString(16)} (${size} bytes): give whole pages below 4 GiB`,
      );
    }
    if (hpa < this.vmBase || hpa + size > this.vmEnd) {
      throw new PassthroughError(
        "PASSTHROUGH_BAD_MAPPING",
        `IOMMU map to host 0x${hpa.toString(16)}..0x${(hpa + size).toString(16)}: outside the VM's memory 0x${this.vmBase.toString(16)}..0x${this.vmEnd.toString(16)}`,
      );
    }
    for (let off = 0; off < size; off += PAGE) {
      const page = (iova + off) / PAGE;
      let t = this.dir[page >>> 10];
      if (!t) {
        t = new Int32Array(ENTRIES);
        this.dir[page >>> 10] = t;
      }
      if (t[page & 1023] === 0) this.stats.mappedPages++;
      t[page & 1023] = (hpa + off) / PAGE + 1;
    }
  }

  /** Unmap IOVAs [iova, iova+size) (whole pages; unmapped pages are skipped). */
  unmap(iova: number, size: number): void {
    for (let off = 0; off < size; off += PAGE) {
      const page = Math.floor((iova + off) / PAGE);
      const t = this.dir[page >>> 10];
      if (t && t[page & 1023] !== 0) {
        t[page & 1023] = 0;
        this.stats.mappedPages--;
      }
    }
  }

  /**
   * Translate the DMA range [hi:lo, +length) to an offset into host memory,
   * or -1 (a fault, counted and logged). The range must map to one
   * contiguous host range.
   */
  translate(lo: number, hi: number, length: number): number {
    const iova = lo >>> 0;
    if (hi !== 0 || length < 0 || iova + length > 4294967296)
      return this.fault(iova, length, IOMMU_FAULT.RANGE);
    const first = iova >>> 12;
    const last = length === 0 ? first : Math.floor((iova + length - 1) / PAGE);
    const t0 = this.dir[first >>> 10];
    const e0 = t0 === undefined ? 0 : t0[first & 1023]!;
    if (e0 === 0) return this.fault(iova, length, IOMMU_FAULT.UNMAPPED);
    for (let page = first + 1; page <= last; page++) {
      const t = this.dir[page >>> 10];
      const e = t === undefined ? 0 : t[page & 1023]!;
      if (e === 0) return this.fault(iova, length, IOMMU_FAULT.UNMAPPED);
      if (e !== e0 + (page - first)) return this.fault(iova, length, IOMMU_FAULT.SPLIT);
    }
    const hpa = (e0 - 1) * PAGE + (iova & 0xfff);
    const off = hpa - this.hostBase;
    // Unreachable through map()'s checks; kept so that no bug here can hand out a host offset past memory.
    if (off < 0 || off + length > this.hostSize) return this.fault(iova, length, IOMMU_FAULT.UNMAPPED);
    this.stats.translations++;
    this.lastHpa = hpa;
    return off;
  }

  /** The most recent faults, oldest first (at most {@link IOMMU_FAULT_LOG}). */
  faults(): IommuFault[] {
    const n = Math.min(this.logged, IOMMU_FAULT_LOG);
    const out: IommuFault[] = [];
    for (let i = this.logged - n; i < this.logged; i++) {
      const at = (i % IOMMU_FAULT_LOG) * 3;
      out.push({ iova: this.log[at]!, length: this.log[at + 1]!, reason: this.log[at + 2]! });
    }
    return out;
  }

  private fault(iova: number, length: number, reason: number): number {
    this.stats.faults++;
    const at = (this.logged % IOMMU_FAULT_LOG) * 3;
    this.log[at] = iova;
    this.log[at + 1] = length;
    this.log[at + 2] = reason;
    this.logged++;
    return -1;
  }
}
