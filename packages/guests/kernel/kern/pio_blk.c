/*
 * A driver for hvkit's programmed-I/O block controller ("hvkit,pio-blk",
 * @hvkit/io-emulated): the block layer's backend when the devicetree has
 * such a node. The controller works like a legacy ATA disk in PIO mode: the
 * driver writes the sector number, a count of 1 and READ or WRITE, then
 * moves the sector's 128 32-bit words through the DATA register, one access
 * per word, polling STATUS (CONTROL.IEN stays clear: no interrupts). Under a
 * virtualizing strategy every one of those accesses is an MMIO exit.
 */
#include "kernel.h"

/* Registers (packages/io/emulated/src/pio-blk.ts). */
#define PIO_ID 0x00
#define PIO_VERSION 0x04
#define PIO_CAPACITY_LO 0x08
#define PIO_CAPACITY_HI 0x0c
#define PIO_FLAGS 0x10
#define PIO_LBA_LO 0x14
#define PIO_LBA_HI 0x18
#define PIO_COUNT 0x1c
#define PIO_COMMAND 0x20
#define PIO_STATUS 0x24
#define PIO_ERROR 0x2c
#define PIO_CONTROL 0x30
#define PIO_DATA 0x34

#define PIO_MAGIC 0x424f4950U /* "PIOB" */
#define CMD_READ 0x20
#define CMD_WRITE 0x30
#define ST_ERR 0x01
#define ST_DRQ 0x08
#define ST_BSY 0x80
#define FLAG_RO 1
/* Polls of STATUS before a command counts as lost: a synchronous backend answers at once. */
#define MAX_POLLS 10000000UL

static struct {
  uint64_t base;
  int read_only;
} pb;

static uint32_t rd(uint32_t off) { return *(volatile uint32_t *)(uintptr_t)(pb.base + off); }
static void wr(uint32_t off, uint32_t v) { *(volatile uint32_t *)(uintptr_t)(pb.base + off) = v; }

/* Wait until the controller is not busy; the status, or 0xff when it never settles. */
static uint32_t wait_ready(void) {
  for (uint64_t polls = 0; polls < MAX_POLLS; polls++) {
    uint32_t st = rd(PIO_STATUS);
    if (!(st & ST_BSY)) return st;
  }
  return 0xff;
}

static int pio_command(uint64_t sector, uint32_t cmd) {
  wr(PIO_LBA_LO, (uint32_t)sector);
  wr(PIO_LBA_HI, (uint32_t)(sector >> 32));
  wr(PIO_COUNT, 1);
  wr(PIO_COMMAND, cmd);
  uint32_t st = wait_ready();
  if ((st & (ST_ERR | ST_DRQ)) != ST_DRQ) {
    printk("hvkit-kernel: pio-blk: sector %lu: status 0x%x error %u\n", sector, st, rd(PIO_ERROR));
    return -1;
  }
  return 0;
}

static int pio_read(struct blkdev *dev, uint64_t sector, void *buf) {
  if (sector >= dev->sectors || pio_command(sector, CMD_READ) != 0) return -1;
  uint8_t *p = buf;
  for (int i = 0; i < BLOCK_SIZE / 4; i++, p += 4) {
    uint32_t w = rd(PIO_DATA);
    p[0] = (uint8_t)w;
    p[1] = (uint8_t)(w >> 8);
    p[2] = (uint8_t)(w >> 16);
    p[3] = (uint8_t)(w >> 24);
  }
  return 0;
}

static int pio_write(struct blkdev *dev, uint64_t sector, const void *buf) {
  if (sector >= dev->sectors || pb.read_only || pio_command(sector, CMD_WRITE) != 0) return -1;
  const uint8_t *p = buf;
  for (int i = 0; i < BLOCK_SIZE / 4; i++, p += 4)
    wr(PIO_DATA, (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
  uint32_t st = wait_ready();
  return (st & (ST_ERR | ST_DRQ)) == 0 ? 0 : -1;
}

static struct blkdev pblk = {"pio-blk", 0, pio_read, pio_write, NULL};

struct blkdev *pio_blk_probe(void) {
  if (boot.pio_blk_base == 0) return NULL;
  pb.base = boot.pio_blk_base;
  if (rd(PIO_ID) != PIO_MAGIC || rd(PIO_VERSION) != 1) {
    printk("hvkit-kernel: pio-blk at 0x%lx: not a version 1 controller\n", pb.base);
    return NULL;
  }
  wr(PIO_CONTROL, 0); /* polled: no interrupts */
  pblk.sectors = (uint64_t)rd(PIO_CAPACITY_HI) << 32 | rd(PIO_CAPACITY_LO);
  pb.read_only = (rd(PIO_FLAGS) & FLAG_RO) != 0;
  printk("hvkit-kernel: block device pio-blk at 0x%lx, %lu sectors%s\n", pb.base, pblk.sectors,
         pb.read_only ? ", read-only" : "");
  return &pblk;
}
