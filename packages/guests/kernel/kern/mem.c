/*
 * Physical page allocator: 4 KiB pages between the end of the kernel image
 * and the first reserved region, handed out from a free list of returned
 * pages or, when it is empty, from the never-used rest of the pool (so boot
 * does not walk all of RAM to build a list), with a reference count per
 * page so that fork can share pages copy-on-write. Every page handed out is
 * zeroed (fresh page tables and demand-zero pages need it; a leak of old
 * contents between processes would be a bug).
 */
#include "kernel.h"

struct free_page {
  struct free_page *next;
};

static struct free_page *free_list;
static uint64_t nfree;                /* pages on free_list */
static uint64_t pool_start, pool_end; /* the pages managed here */
static uint64_t pool_next;            /* pages from here up have never been handed out */
static uint16_t *refcount;            /* one per page of the pool */

static uint64_t page_index(void *page) {
  uint64_t pa = (uint64_t)(uintptr_t)page;
  if ((pa & (PAGE_SIZE - 1)) != 0 || pa < pool_start || pa >= pool_end) panic("mem: %p is not a pool page", page);
  return (pa - pool_start) >> PAGE_SHIFT;
}

void mem_init(uint64_t start, uint64_t end) {
  start = PAGE_ROUND_UP(start);
  end = PAGE_ROUND_DOWN(end);
  if (end <= start) panic("mem: no free memory");
  /* The reference counts live at the start of the region; the pool is what follows. */
  uint64_t pages = (end - start) >> PAGE_SHIFT;
  uint64_t table = PAGE_ROUND_UP(pages * sizeof(uint16_t));
  refcount = (uint16_t *)(uintptr_t)start;
  memset(refcount, 0, table);
  pool_start = start + table;
  pool_end = end;
  pool_next = pool_start;
}

void *page_alloc(void) {
  struct free_page *f = free_list;
  if (f != NULL) {
    free_list = f->next;
    nfree--;
  } else if (pool_next < pool_end) {
    f = (struct free_page *)(uintptr_t)pool_next;
    pool_next += PAGE_SIZE;
  } else {
    return NULL;
  }
  refcount[page_index(f)] = 1;
  memset(f, 0, PAGE_SIZE);
  return f;
}

void page_ref(void *page) {
  uint64_t i = page_index(page);
  if (refcount[i] == 0 || refcount[i] == UINT16_MAX) panic("mem: page_ref(%p) with count %u", page, refcount[i]);
  refcount[i]++;
}

void page_put(void *page) {
  uint64_t i = page_index(page);
  if (refcount[i] == 0) panic("mem: page_put(%p) of a free page", page);
  if (--refcount[i] > 0) return;
  struct free_page *f = page;
  f->next = free_list;
  free_list = f;
  nfree++;
}

unsigned page_refs(void *page) { return refcount[page_index(page)]; }

uint64_t mem_free_pages(void) { return nfree + ((pool_end - pool_next) >> PAGE_SHIFT); }
