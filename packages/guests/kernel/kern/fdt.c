/*
 * A minimal flattened-devicetree reader (Devicetree Specification v0.4,
 * chapter 5): validates the header, walks the structure block once, and
 * keeps what hvkit-kernel needs in struct bootinfo. Properties of a node come
 * before its subnodes (spec 5.4.2), so a node's #address-cells/#size-cells
 * are known when its children's reg properties are read; each node is
 * interpreted at its FDT_END_NODE, when all of its properties are in.
 */
#include "kernel.h"

#define FDT_MAGIC 0xd00dfeedU
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE 2
#define FDT_PROP 3
#define FDT_NOP 4
#define FDT_END 9
#define MAX_DEPTH 16
#define IRQ_S_EXT_SPEC 9 /* the cpu interrupt controller's S-mode external interrupt */

struct prop {
  const uint8_t *data;
  uint32_t len;
};

struct node {
  const char *name;
  uint32_t addr_cells, size_cells; /* for this node's children (spec 2.3.5: default 2 and 1) */
  uint32_t phandle;
  int is_intc;
  struct prop compatible, reg, device_type, interrupts, interrupts_extended, isa, isa_extensions;
};

static uint32_t be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint64_t be64(const uint8_t *p) { return ((uint64_t)be32(p) << 32) | be32(p + 4); }

/* `cells` 32-bit cells as one number (1 or 2 cells; more are not addresses we can use). */
static uint64_t read_cells(const uint8_t *p, uint32_t cells) { return cells == 1 ? be32(p) : be64(p + 4 * (cells - 2)); }

/* Whether node name `name` is `base` or `base@unit`. */
static int name_is(const char *name, const char *base) {
  size_t n = strlen(base);
  return strncmp(name, base, n) == 0 && (name[n] == '\0' || name[n] == '@');
}

/* Whether a stringlist property contains `s`. */
static int has_string(struct prop p, const char *s) {
  size_t n = strlen(s);
  for (uint32_t i = 0; i < p.len;) {
    const char *item = (const char *)p.data + i;
    size_t len = strnlen(item, p.len - i);
    if (len == n && memcmp(item, s, n) == 0) return 1;
    i += (uint32_t)len + 1;
  }
  return 0;
}

/* The first (address, size) pair of a reg property under a parent's cell sizes; 0 if absent. */
static int first_reg(struct prop reg, const struct node *parent, uint64_t *addr, uint64_t *size) {
  uint32_t ac = parent->addr_cells;
  uint32_t sc = parent->size_cells;
  if (ac < 1 || ac > 2 || sc > 2 || reg.len < 4 * (ac + sc)) return 0;
  /* read_cells takes 1 or 2 cells; size 0 cells (cpu nodes) means no size. */
  *addr = read_cells(reg.data, ac);
  *size = sc == 0 ? 0 : read_cells(reg.data + 4 * ac, sc);
  return 1;
}

/* Whether the ISA string (e.g. "rv64imafdc_zicsr_sstc") names the multi-letter extension ext. */
static int isa_has(struct prop isa, const char *ext) {
  size_t n = strlen(ext);
  const char *s = (const char *)isa.data;
  size_t len = strnlen(s, isa.len);
  for (size_t i = 0; i + n <= len; i++) {
    if (s[i] == '_' && strncmp(s + i + 1, ext, n) == 0 && (i + 1 + n == len || s[i + 1 + n] == '_')) return 1;
  }
  return 0;
}

static void add_reserved(struct bootinfo *bi, uint64_t start, uint64_t size) {
  if (size == 0) return;
  if (bi->nreserved == MAX_RESERVED) panic("devicetree: more than %d reserved memory regions", MAX_RESERVED);
  bi->reserved[bi->nreserved].start = start;
  bi->reserved[bi->nreserved].end = start + size;
  bi->nreserved++;
}

/* Whether cpu node `cpu` (a child of `cpus`) is the hart we boot on: its reg is the hart id. */
static int is_our_cpu(const struct bootinfo *bi, const struct node *cpu, const struct node *cpus) {
  uint64_t id, unused;
  return first_reg(cpu->reg, cpus, &id, &unused) && id == bi->hartid;
}

/* Act on a complete node: its parent is stack[depth - 1], the root is at depth 0. */
static void finish_node(struct bootinfo *bi, struct node *stack, int depth, uint32_t *cpu_intc_phandle,
                        struct prop *plic_intx) {
  struct node *n = &stack[depth];
  const struct node *parent = &stack[depth - 1];
  uint64_t addr, size;
  if (depth == 1 && (name_is(n->name, "memory") || has_string(n->device_type, "memory"))) {
    if (bi->ram_size == 0 && first_reg(n->reg, parent, &addr, &size)) {
      bi->ram_base = addr;
      bi->ram_size = size;
    }
  } else if (depth == 2 && name_is(parent->name, "reserved-memory")) {
    if (first_reg(n->reg, parent, &addr, &size)) add_reserved(bi, addr, size);
  } else if (depth == 2 && name_is(parent->name, "cpus") && name_is(n->name, "cpu")) {
    if (is_our_cpu(bi, n, parent)) bi->have_sstc = isa_has(n->isa, "sstc") || has_string(n->isa_extensions, "sstc");
  } else if (depth == 3 && n->is_intc && name_is(parent->name, "cpu") && is_our_cpu(bi, parent, &stack[1])) {
    *cpu_intc_phandle = n->phandle; /* the controller PLIC contexts of our hart point at */
  }
  if (n->compatible.len == 0) return;
  if (bi->uart_base == 0 && (has_string(n->compatible, "ns16550a") || has_string(n->compatible, "ns16550"))) {
    if (first_reg(n->reg, parent, &addr, &size)) {
      bi->uart_base = addr;
      if (n->interrupts.len >= 4) bi->uart_irq = be32(n->interrupts.data);
    }
  } else if (bi->plic_base == 0 &&
             (has_string(n->compatible, "riscv,plic0") || has_string(n->compatible, "sifive,plic-1.0.0"))) {
    if (first_reg(n->reg, parent, &addr, &size)) {
      bi->plic_base = addr;
      *plic_intx = n->interrupts_extended;
    }
  } else if (bi->syscon_base == 0 && has_string(n->compatible, "sifive,test0")) {
    if (first_reg(n->reg, parent, &addr, &size)) bi->syscon_base = addr;
  } else if (bi->pio_blk_base == 0 && has_string(n->compatible, "hvkit,pio-blk")) {
    if (first_reg(n->reg, parent, &addr, &size) && size >= 0x40) bi->pio_blk_base = addr;
  } else if (bi->nvirtio < MAX_VIRTIO && has_string(n->compatible, "virtio,mmio")) {
    if (first_reg(n->reg, parent, &addr, &size) && size >= 0x200) {
      bi->virtio[bi->nvirtio].base = addr;
      bi->virtio[bi->nvirtio].size = size;
      bi->virtio[bi->nvirtio].irq = n->interrupts.len >= 4 ? be32(n->interrupts.data) : 0;
      bi->nvirtio++;
    }
  }
}

static uint64_t chosen_address(struct prop p) { return p.len == 8 ? be64(p.data) : p.len == 4 ? be32(p.data) : 0; }

void fdt_parse(const void *dtb, struct bootinfo *bi) {
  const uint8_t *base = dtb;
  if (((uintptr_t)base & 3) != 0) panic("devicetree: address %p is not 4-byte aligned", dtb);
  if (be32(base) != FDT_MAGIC) panic("devicetree: bad magic 0x%x at %p", be32(base), dtb);
  uint32_t total = be32(base + 4);
  uint32_t off_struct = be32(base + 8);
  uint32_t off_strings = be32(base + 12);
  uint32_t off_rsv = be32(base + 16);
  uint32_t version = be32(base + 20);
  uint32_t last_comp = be32(base + 24);
  uint32_t size_strings = be32(base + 32);
  uint32_t size_struct = be32(base + 36);
  if (version < 17 || last_comp > 17) panic("devicetree: version %u (compatible with %u) unsupported", version, last_comp);
  if (total < 40 || total > 64 * 1024 * 1024 || off_struct > total || size_struct > total - off_struct ||
      off_strings > total || size_strings > total - off_strings || off_rsv > total - 16 || (off_struct & 3) != 0 ||
      (off_rsv & 7) != 0)
    panic("devicetree: inconsistent header (total %u)", total);
  bi->dtb_start = (uint64_t)(uintptr_t)dtb;
  bi->dtb_end = bi->dtb_start + total;

  /* The memory reservation block: (address, size) pairs up to a (0, 0) entry (spec 5.3). */
  for (uint32_t off = off_rsv; off + 16 <= total; off += 16) {
    uint64_t addr = be64(base + off);
    uint64_t size = be64(base + off + 8);
    if (addr == 0 && size == 0) break;
    add_reserved(bi, addr, size);
  }

  const uint8_t *s = base + off_struct;
  const char *strings = (const char *)base + off_strings;
  uint32_t pos = 0;
  int depth = -1;
  struct node stack[MAX_DEPTH];
  uint32_t cpu_intc_phandle = 0;
  struct prop plic_intx = {0, 0};
  struct prop bootargs = {0, 0}, initrd_start = {0, 0}, initrd_end = {0, 0};
  for (;;) {
    if (pos + 4 > size_struct) panic("devicetree: structure block ends without FDT_END");
    uint32_t token = be32(s + pos);
    pos += 4;
    if (token == FDT_END) break;
    if (token == FDT_NOP) continue;
    if (token == FDT_BEGIN_NODE) {
      const char *name = (const char *)s + pos;
      size_t len = strnlen(name, size_struct - pos);
      if (pos + len >= size_struct) panic("devicetree: unterminated node name");
      pos += ((uint32_t)len + 1 + 3) & ~3U;
      if (++depth >= MAX_DEPTH) panic("devicetree: nodes nested deeper than %d", MAX_DEPTH);
      struct node *n = &stack[depth];
      memset(n, 0, sizeof *n);
      n->name = name;
      n->addr_cells = 2;
      n->size_cells = 1;
    } else if (token == FDT_END_NODE) {
      if (depth < 0) panic("devicetree: unbalanced FDT_END_NODE");
      if (depth >= 1) finish_node(bi, stack, depth, &cpu_intc_phandle, &plic_intx);
      depth--;
    } else if (token == FDT_PROP) {
      if (depth < 0 || pos + 8 > size_struct) panic("devicetree: property outside a node");
      uint32_t len = be32(s + pos);
      uint32_t nameoff = be32(s + pos + 4);
      pos += 8;
      if (len > size_struct - pos || nameoff >= size_strings) panic("devicetree: property out of bounds");
      const char *pname = strings + nameoff;
      if (strnlen(pname, size_strings - nameoff) == size_strings - nameoff)
        panic("devicetree: unterminated property name");
      struct prop p = {s + pos, len};
      pos += (len + 3) & ~3U;
      struct node *n = &stack[depth];
      if (strcmp(pname, "#address-cells") == 0 && len == 4) n->addr_cells = be32(p.data);
      else if (strcmp(pname, "#size-cells") == 0 && len == 4) n->size_cells = be32(p.data);
      else if (strcmp(pname, "compatible") == 0) n->compatible = p;
      else if (strcmp(pname, "reg") == 0) n->reg = p;
      else if (strcmp(pname, "device_type") == 0) n->device_type = p;
      else if (strcmp(pname, "interrupts") == 0) n->interrupts = p;
      else if (strcmp(pname, "interrupts-extended") == 0) n->interrupts_extended = p;
      else if (strcmp(pname, "riscv,isa") == 0) n->isa = p;
      else if (strcmp(pname, "riscv,isa-extensions") == 0) n->isa_extensions = p;
      else if (strcmp(pname, "phandle") == 0 && len == 4) n->phandle = be32(p.data);
      else if (strcmp(pname, "interrupt-controller") == 0) n->is_intc = 1;
      else if (depth == 1 && name_is(n->name, "chosen")) {
        if (strcmp(pname, "bootargs") == 0) bootargs = p;
        else if (strcmp(pname, "linux,initrd-start") == 0) initrd_start = p;
        else if (strcmp(pname, "linux,initrd-end") == 0) initrd_end = p;
      } else if (depth == 1 && name_is(n->name, "cpus") && strcmp(pname, "timebase-frequency") == 0) {
        bi->timebase = len == 8 ? be64(p.data) : len == 4 ? be32(p.data) : 0;
      }
    } else {
      panic("devicetree: unknown token 0x%x at offset %u", token, pos - 4);
    }
  }
  if (depth != -1) panic("devicetree: unbalanced nodes at FDT_END");

  if (bootargs.len > 0) {
    size_t n = strnlen((const char *)bootargs.data, bootargs.len);
    if (n >= BOOTARGS_MAX) panic("devicetree: bootargs longer than %d bytes", BOOTARGS_MAX - 1);
    memcpy(bi->bootargs, bootargs.data, n);
    bi->bootargs[n] = '\0';
  }
  bi->initrd_start = chosen_address(initrd_start);
  bi->initrd_end = chosen_address(initrd_end);
  /* The PLIC context wired to our hart's S-mode external interrupt: interrupts-extended lists
     (controller phandle, interrupt) pairs, one per context (riscv,plic0 binding). */
  bi->plic_context = PLIC_NO_CONTEXT;
  for (uint32_t i = 0; i + 8 <= plic_intx.len; i += 8) {
    if (be32(plic_intx.data + i) == cpu_intc_phandle && be32(plic_intx.data + i + 4) == IRQ_S_EXT_SPEC) {
      bi->plic_context = i / 8;
      break;
    }
  }
  if (bi->ram_size == 0) panic("devicetree: no /memory node");
  if (bi->timebase == 0) panic("devicetree: no /cpus/timebase-frequency");
}
