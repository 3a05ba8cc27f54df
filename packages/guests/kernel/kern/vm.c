/*
 * Sv39 address spaces (privileged spec 4.4).
 *
 * The kernel maps RAM and the devices it drives at their physical addresses
 * (VA = PA), without PTE_U, in root slots 0 (devices), 2 and 3 (RAM). Every
 * process root table shares those slots (they point at the same lower-level
 * tables) and owns slot 1, VA 0x4000_0000..0x7fff_ffff, for itself: its
 * program, heap and stack, all PTE_U. The kernel never dereferences user
 * addresses: copyin/copyout walk the process's table and check PTE_U and
 * the permission, so a bad pointer in a system call is an error, not a
 * kernel fault, and sstatus.SUM stays 0.
 *
 * Every PTE write goes through arch_set_pte (the seam for validated,
 * batched updates in the paravirtual build).
 */
#include "kernel.h"

#define KERNEL_PERM (PTE_R | PTE_W | PTE_A | PTE_D | PTE_G)
#define USER_SLOT VPN(USER_BASE, 2)
_Static_assert(USER_TOP - USER_BASE == GIGAPAGE_SIZE, "user space is exactly root slot 1");

pte_t *kernel_root;
/* The root slots the kernel uses (at most 0, 2 and 3 on the virt board): what every process root shares. */
static uint64_t kernel_slots[512];
static int nkernel_slots;
/* A kernel-only page the ptemod benchmark remaps: the top page of root slot 0 (no device there). */
const uint64_t kvm_scratch_va = GIGAPAGE_SIZE - PAGE_SIZE;

/*
 * The PTE for va at `level` (0: 4 KiB page, 1: 2 MiB megapage) in the tree
 * under root, creating intermediate tables when alloc is set. NULL when a
 * table is missing (or cannot be allocated), or a superpage covers va.
 */
static pte_t *walk(pte_t *root, uint64_t va, int level, int alloc) {
  pte_t *table = root;
  for (int l = 2; l > level; l--) {
    pte_t *pte = &table[VPN(va, l)];
    arch_mmu_sync_entry(pte); /* what is read here (and by the caller) must include every write so far */
    if (*pte & PTE_V) {
      if (*pte & PTE_LEAF) return NULL;
      table = (pte_t *)(uintptr_t)PTE_TO_PA(*pte);
    } else {
      if (!alloc) return NULL;
      pte_t *next = page_alloc();
      if (next == NULL) return NULL;
      /* A pointer to the next level: V only; A, D and U must be zero (spec 4.4.1). */
      arch_set_pte(pte, PA_TO_PTE(next) | PTE_V);
      table = next;
    }
  }
  arch_mmu_sync_entry(&table[VPN(va, level)]);
  return &table[VPN(va, level)];
}

static void kmap(uint64_t va, uint64_t pa, int level, uint64_t perm) {
  if (va >= USER_BASE && va < USER_TOP) panic("vm: kernel mapping at 0x%lx collides with user space", va);
  pte_t *pte = walk(kernel_root, va, level, 1);
  if (pte == NULL) panic("vm: no memory for kernel page tables");
  if (*pte & PTE_V) panic("vm: 0x%lx mapped twice", va);
  arch_set_pte(pte, PA_TO_PTE(pa) | perm | PTE_V);
}

static void kmap_device(uint64_t pa, uint64_t size) {
  for (uint64_t a = PAGE_ROUND_DOWN(pa); a < pa + size; a += PAGE_SIZE) {
    pte_t *pte = walk(kernel_root, a, 0, 1);
    if (pte != NULL && (*pte & PTE_V)) continue; /* two registers in one page */
    kmap(a, a, 0, KERNEL_PERM);
  }
}

/* Kernel image permissions: text R+X, read-only data R, the rest R+W; everything else in RAM R+W. */
static uint64_t kernel_page_perm(uint64_t pa) {
  if (pa < (uint64_t)(uintptr_t)__text_end) return PTE_R | PTE_X | PTE_A | PTE_G;
  if (pa < (uint64_t)(uintptr_t)__rodata_end) return PTE_R | PTE_A | PTE_G;
  return KERNEL_PERM;
}

void kvm_init(void) {
  kernel_root = page_alloc();
  if (kernel_root == NULL) panic("vm: no memory for the kernel root table");
  /* Devices: only the register pages the drivers use. */
  if (boot.uart_base) kmap_device(boot.uart_base, 8);
  if (boot.syscon_base) kmap_device(boot.syscon_base, 4);
  for (int i = 0; i < boot.nvirtio; i++) kmap_device(boot.virtio[i].base, 0x200); /* registers and config */
  if (boot.pio_blk_base) kmap_device(boot.pio_blk_base, 0x40);
  if (boot.plic_base && boot.plic_context != PLIC_NO_CONTEXT) {
    kmap_device(boot.plic_base, 4 * 1024);                                    /* source priorities */
    kmap_device(boot.plic_base + 0x2000 + 0x80 * boot.plic_context, 0x80);     /* enable bits */
    kmap_device(boot.plic_base + 0x200000 + 0x1000 * boot.plic_context, 8);    /* threshold, claim */
  }
  /* RAM from the kernel up: 2 MiB megapages, 4 KiB pages where the kernel image needs finer permissions. */
  uint64_t kstart = (uint64_t)(uintptr_t)__kernel_start;
  uint64_t kend = (uint64_t)(uintptr_t)__kernel_end;
  uint64_t ram_end = boot.ram_base + boot.ram_size;
  for (uint64_t mega = kstart & ~(MEGAPAGE_SIZE - 1); mega < ram_end; mega += MEGAPAGE_SIZE) {
    if (mega >= kend && mega + MEGAPAGE_SIZE <= ram_end) {
      kmap(mega, mega, 1, KERNEL_PERM);
      continue;
    }
    uint64_t from = mega < kstart ? kstart : mega;
    uint64_t to = mega + MEGAPAGE_SIZE < ram_end ? mega + MEGAPAGE_SIZE : ram_end;
    for (uint64_t pa = from; pa < to; pa += PAGE_SIZE) kmap(pa, pa, 0, kernel_page_perm(pa));
  }
  /* The ptemod scratch page's table, so that benchmark only rewrites a leaf. */
  if (walk(kernel_root, kvm_scratch_va, 0, 1) == NULL) panic("vm: no memory for the scratch page table");
  arch_mmu_sync(kernel_root);
  for (uint64_t i = 0; i < 512; i++) {
    if (kernel_root[i] & PTE_V) kernel_slots[nkernel_slots++] = i;
  }
  arch_set_pagetable(kernel_root);
}

pte_t *kvm_scratch_pte(void) { return walk(kernel_root, kvm_scratch_va, 0, 0); }

pte_t *uvm_create(void) {
  pte_t *root = page_alloc();
  if (root == NULL) return NULL;
  /* Only the slots the kernel uses: no new ones appear after kvm_init. */
  for (int i = 0; i < nkernel_slots; i++) arch_set_pte(&root[kernel_slots[i]], kernel_root[kernel_slots[i]]);
  return root;
}

/*
 * The user VA ranges that can hold mappings below heap_end (the program and
 * heap) and the stack region, as at most two ranges that never share a
 * 2 MiB region (so each leaf table is visited once). Returns the count.
 */
static int user_ranges(uint64_t heap_end, uint64_t ranges[2][2]) {
  uint64_t stack = USER_TOP - USTACK_SIZE;
  uint64_t heap_top = (heap_end + MEGAPAGE_SIZE - 1) & ~(MEGAPAGE_SIZE - 1);
  if (heap_end > stack || heap_top > (stack & ~(MEGAPAGE_SIZE - 1))) {
    ranges[0][0] = USER_BASE;
    ranges[0][1] = USER_TOP;
    return 1;
  }
  ranges[0][0] = USER_BASE;
  ranges[0][1] = heap_end;
  ranges[1][0] = stack;
  ranges[1][1] = USER_TOP;
  return 2;
}

/* The leaf table (level 0) covering va, or NULL. */
static pte_t *leaf_table(pte_t *root, uint64_t va) {
  pte_t *table = root;
  for (int level = 2; level > 0; level--) {
    arch_mmu_sync_entry(&table[VPN(va, level)]);
    pte_t pte = table[VPN(va, level)];
    if (!(pte & PTE_V) || (pte & PTE_LEAF)) return NULL;
    table = (pte_t *)(uintptr_t)PTE_TO_PA(pte);
  }
  arch_mmu_sync(table); /* the caller reads its entries */
  return table;
}

/* The end of va's 2 MiB region, or end if that comes first. */
static uint64_t region_end(uint64_t va, uint64_t end) {
  uint64_t next = (va | (MEGAPAGE_SIZE - 1)) + 1;
  return next < end ? next : end;
}

/*
 * Free the user half of an address space (pages and tables) and the root;
 * root must not be active. heap_peak: the highest break the process ever
 * had (no user table lies between it and the stack region).
 */
void uvm_free(pte_t *root, uint64_t heap_peak) {
  uint64_t ranges[2][2];
  int n = user_ranges(heap_peak, ranges);
  for (int r = 0; r < n; r++) {
    for (uint64_t va = ranges[r][0]; va < ranges[r][1]; va = region_end(va, ranges[r][1])) {
      pte_t *l0 = leaf_table(root, va);
      if (l0 == NULL) continue;
      /* The whole leaf table: its region may reach beyond the range (the program's first pages). */
      for (int j = 0; j < 512; j++) {
        if (l0[j] & PTE_V) page_put((void *)(uintptr_t)PTE_TO_PA(l0[j]));
      }
      arch_release_pagetable(l0);
      page_put(l0);
    }
  }
  pte_t l2 = root[USER_SLOT];
  if (l2 & PTE_V) {
    arch_release_pagetable((pte_t *)(uintptr_t)PTE_TO_PA(l2));
    page_put((void *)(uintptr_t)PTE_TO_PA(l2));
  }
  arch_release_pagetable(root);
  page_put(root);
}

int uvm_map(pte_t *root, uint64_t va, void *page, uint64_t perm) {
  if (va < USER_BASE || va >= USER_TOP || (va & (PAGE_SIZE - 1)) != 0) panic("vm: uvm_map(0x%lx)", va);
  pte_t *pte = walk(root, va, 0, 1);
  if (pte == NULL) return -1;
  if (*pte & PTE_V) panic("vm: user page 0x%lx mapped twice", va);
  /* A and D preset: nothing here uses them, and it spares the hardware (or a VMM) the update. */
  uint64_t ad = PTE_A | ((perm & PTE_W) ? PTE_D : 0);
  arch_set_pte(pte, PA_TO_PTE(page) | perm | ad | PTE_U | PTE_V);
  return 0;
}

void uvm_unmap(pte_t *root, uint64_t start, uint64_t end) {
  for (uint64_t va = PAGE_ROUND_UP(start); va < end; va += PAGE_SIZE) {
    pte_t *pte = walk(root, va, 0, 0);
    if (pte == NULL || !(*pte & PTE_V)) continue;
    page_put((void *)(uintptr_t)PTE_TO_PA(*pte));
    arch_set_pte(pte, 0);
    arch_flush_tlb_page(va);
  }
}

/*
 * Share every user page of `from` below heap_end and in the stack region
 * with `to`: writable pages become read-only + PTE_COW in both (the first
 * write copies), read-only pages are simply shared. -1 when out of memory
 * (the caller frees `to`).
 */
int uvm_fork(pte_t *from, pte_t *to, uint64_t heap_end) {
  uint64_t ranges[2][2];
  int n = user_ranges(heap_end, ranges);
  int rc = 0;
  for (int r = 0; r < n && rc == 0; r++) {
    for (uint64_t va = ranges[r][0]; va < ranges[r][1] && rc == 0; va = region_end(va, ranges[r][1])) {
      pte_t *l0 = leaf_table(from, va);
      if (l0 == NULL) continue;
      for (uint64_t a = va; a < region_end(va, ranges[r][1]); a += PAGE_SIZE) {
        pte_t *parent = &l0[VPN(a, 0)];
        pte_t pte = *parent;
        if (!(pte & PTE_V)) continue;
        pte_t *child = walk(to, a, 0, 1);
        if (child == NULL) {
          rc = -1;
          break;
        }
        if (pte & (PTE_W | PTE_COW)) {
          pte = (pte & ~PTE_W) | PTE_COW;
          arch_set_pte(parent, pte);
        }
        page_ref((void *)(uintptr_t)PTE_TO_PA(pte));
        arch_set_pte(child, pte);
      }
    }
  }
  /* The parent's writable pages just lost PTE_W: drop their stale translations. */
  arch_flush_tlb_all();
  return rc;
}

static int in_demand_region(const struct proc *p, uint64_t va) {
  return (va >= p->heap_base && va < p->brk) || (va >= USER_TOP - USTACK_SIZE && va < USER_TOP);
}

/*
 * Resolve a user page fault at va: a demand-zero page in the heap or stack,
 * or a copy-on-write break on a store. access: 0 load, 1 store, 2 fetch.
 * Returns 0 when the access can be retried, -1 when it is a genuine fault.
 */
int uvm_fault(struct proc *p, uint64_t va, int access) {
  if (va < USER_BASE || va >= USER_TOP) return -1;
  uint64_t page_va = PAGE_ROUND_DOWN(va);
  pte_t *pte = walk(p->root, page_va, 0, 0);
  if (pte != NULL && (*pte & PTE_V)) {
    pte_t old = *pte;
    uint64_t need = access == 1 ? PTE_W : access == 2 ? PTE_X : PTE_R;
    if ((old & need) && (old & PTE_U)) {
      arch_flush_tlb_page(page_va); /* a stale translation: the access is fine now */
      return 0;
    }
    if (access != 1 || !(old & PTE_COW)) return -1;
    void *shared = (void *)(uintptr_t)PTE_TO_PA(old);
    uint64_t flags = (old & ((1UL << PTE_PPN_SHIFT) - 1) & ~PTE_COW) | PTE_W | PTE_D;
    if (page_refs(shared) == 1) {
      arch_set_pte(pte, PA_TO_PTE(shared) | flags); /* the last sharer keeps the page */
    } else {
      void *copy = page_alloc();
      if (copy == NULL) return -1;
      memcpy(copy, shared, PAGE_SIZE);
      arch_set_pte(pte, PA_TO_PTE(copy) | flags);
      page_put(shared);
    }
    arch_flush_tlb_page(page_va);
    p->cow_faults++;
    return 0;
  }
  if (!in_demand_region(p, va)) return -1;
  void *page = page_alloc();
  if (page == NULL) return -1;
  if (uvm_map(p->root, page_va, page, PTE_R | PTE_W) < 0) {
    page_put(page);
    return -1;
  }
  /* Invalid-to-valid needs no fence on most harts, but the spec allows caching the invalid entry. */
  arch_flush_tlb_page(page_va);
  p->zero_faults++;
  return 0;
}

/* The kernel address of user byte va for a load (write = 0) or store, resolving faults as the hardware path would. */
static uint8_t *user_byte(struct proc *p, uint64_t va, int write) {
  if (va < USER_BASE || va >= USER_TOP) return NULL;
  uint64_t need = write ? PTE_W : PTE_R;
  pte_t *pte = walk(p->root, va, 0, 0);
  if (pte == NULL || !(*pte & PTE_V) || !(*pte & need)) {
    if (uvm_fault(p, va, write) < 0) return NULL;
    pte = walk(p->root, va, 0, 0);
  }
  if (pte == NULL || (*pte & (PTE_V | PTE_U | need)) != (PTE_V | PTE_U | need)) return NULL;
  return (uint8_t *)(uintptr_t)(PTE_TO_PA(*pte) + (va & (PAGE_SIZE - 1)));
}

int copyin(struct proc *p, void *dst, uint64_t src, uint64_t n) {
  if (n > USER_TOP || src > USER_TOP - n) return -1;
  uint8_t *d = dst;
  while (n > 0) {
    uint8_t *s = user_byte(p, src, 0);
    if (s == NULL) return -1;
    uint64_t chunk = PAGE_SIZE - (src & (PAGE_SIZE - 1));
    if (chunk > n) chunk = n;
    memcpy(d, s, chunk);
    d += chunk;
    src += chunk;
    n -= chunk;
  }
  return 0;
}

int copyout(struct proc *p, uint64_t dst, const void *src, uint64_t n) {
  if (n > USER_TOP || dst > USER_TOP - n) return -1;
  const uint8_t *s = src;
  while (n > 0) {
    uint8_t *d = user_byte(p, dst, 1);
    if (d == NULL) return -1;
    uint64_t chunk = PAGE_SIZE - (dst & (PAGE_SIZE - 1));
    if (chunk > n) chunk = n;
    memcpy(d, s, chunk);
    s += chunk;
    dst += chunk;
    n -= chunk;
  }
  return 0;
}
