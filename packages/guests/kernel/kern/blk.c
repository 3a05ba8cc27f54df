/*
 * The block layer: one active block device behind struct blkdev (sector
 * read/write of BLOCK_SIZE bytes). Three backends: a virtio-blk device
 * (virtio_blk.c) when the devicetree has one, else a programmed-I/O
 * controller (pio_blk.c) when it has one of those, else a RAM disk.
 *
 * The RAM disk is sparse: a sector's page is allocated on its first write,
 * and a sector never written reads as zeros (a fresh disk), so it costs no
 * memory or boot time until used.
 */
#include "kernel.h"

#define SECTORS_PER_PAGE (PAGE_SIZE / BLOCK_SIZE)
#define RAMDISK_MAX_SECTORS (64UL * 1024) /* 32 MiB */

static void *ramdisk_pages[RAMDISK_MAX_SECTORS / SECTORS_PER_PAGE];

static int ramdisk_read(struct blkdev *dev, uint64_t sector, void *buf) {
  if (sector >= dev->sectors) return -1;
  uint8_t *page = ramdisk_pages[sector / SECTORS_PER_PAGE];
  if (page == NULL) memset(buf, 0, BLOCK_SIZE);
  else memcpy(buf, page + (sector % SECTORS_PER_PAGE) * BLOCK_SIZE, BLOCK_SIZE);
  return 0;
}

static int ramdisk_write(struct blkdev *dev, uint64_t sector, const void *buf) {
  if (sector >= dev->sectors) return -1;
  uint8_t **slot = (uint8_t **)&ramdisk_pages[sector / SECTORS_PER_PAGE];
  if (*slot == NULL) {
    *slot = page_alloc();
    if (*slot == NULL) return -1;
  }
  memcpy(*slot + (sector % SECTORS_PER_PAGE) * BLOCK_SIZE, buf, BLOCK_SIZE);
  return 0;
}

static struct blkdev ramdisk = {"ramdisk", 0, ramdisk_read, ramdisk_write, NULL};
static struct blkdev *active;

void blk_init(uint64_t ramdisk_sectors) {
  if (ramdisk_sectors > RAMDISK_MAX_SECTORS) ramdisk_sectors = RAMDISK_MAX_SECTORS;
  ramdisk.sectors = ramdisk_sectors;
  active = virtio_blk_probe();
  if (active == NULL) active = pio_blk_probe();
  if (active == NULL) active = ramdisk_sectors > 0 ? &ramdisk : NULL;
}

struct blkdev *blk_device(void) { return active; }

uint64_t blk_pages_in_use(void) {
  uint64_t n = 0;
  for (uint64_t i = 0; i < RAMDISK_MAX_SECTORS / SECTORS_PER_PAGE; i++) n += ramdisk_pages[i] != NULL;
  return n;
}
