/*
 * A virtio-blk driver over virtio-mmio version 2 (virtio 1.2, sections 4.2,
 * 2.7 and 5.2): the block layer's second backend, used when the devicetree
 * has a "virtio,mmio" node whose device answers with DeviceID 2.
 *
 * One request at a time, polled: the driver publishes a three-descriptor
 * chain (16-byte header, one 512-byte sector, a status byte), kicks the
 * queue with one QueueNotify write and waits for the used ring to move. It
 * sets VIRTQ_AVAIL_F_NO_INTERRUPT, so the device raises no interrupt and a
 * block costs exactly one MMIO access (the kick). The kernel maps RAM at its
 * physical addresses, so a kernel pointer is the DMA address the device sees.
 */
#include "kernel.h"

/* virtio-mmio registers (4.2.2). */
#define MAGIC_VALUE 0x000
#define VERSION 0x004
#define DEVICE_ID 0x008
#define DEVICE_FEATURES 0x010
#define DEVICE_FEATURES_SEL 0x014
#define DRIVER_FEATURES 0x020
#define DRIVER_FEATURES_SEL 0x024
#define QUEUE_SEL 0x030
#define QUEUE_NUM_MAX 0x034
#define QUEUE_NUM 0x038
#define QUEUE_READY 0x044
#define QUEUE_NOTIFY 0x050
#define STATUS 0x070
#define QUEUE_DESC_LOW 0x080
#define QUEUE_DESC_HIGH 0x084
#define QUEUE_DRIVER_LOW 0x090
#define QUEUE_DRIVER_HIGH 0x094
#define QUEUE_DEVICE_LOW 0x0a0
#define QUEUE_DEVICE_HIGH 0x0a4
#define CONFIG_GENERATION 0x0fc
#define CONFIG 0x100

#define VIRTIO_MAGIC 0x74726976U /* "virt" */
#define VIRTIO_ID_BLOCK 2
#define STATUS_ACKNOWLEDGE 1
#define STATUS_DRIVER 2
#define STATUS_DRIVER_OK 4
#define STATUS_FEATURES_OK 8
#define F_VERSION_1_HIGH (1U << (32 - 32)) /* VIRTIO_F_VERSION_1 is bit 32: bit 0 of word 1 */
#define BLK_F_RO (1U << 5)

#define DESC_F_NEXT 1
#define DESC_F_WRITE 2
#define AVAIL_F_NO_INTERRUPT 1
#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_S_OK 0

#define QSIZE 4 /* one request in flight needs 3 descriptors */
/* Polls of the used ring before a request counts as lost: the device completes at once or never. */
#define MAX_POLLS 10000000UL

struct virtq_desc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags, next;
};
struct virtq_avail {
  uint16_t flags, idx, ring[QSIZE], used_event;
};
struct virtq_used_elem {
  uint32_t id, len;
};
struct virtq_used {
  uint16_t flags, idx;
  struct virtq_used_elem ring[QSIZE];
  uint16_t avail_event;
};
struct blk_req_header {
  uint32_t type, reserved;
  uint64_t sector;
};

/* Where the queue's areas sit in its page (2.7: alignment 16, 2 and 4). */
#define AVAIL_OFFSET 256
#define USED_OFFSET 512
_Static_assert(sizeof(struct virtq_desc) * QSIZE <= AVAIL_OFFSET, "descriptor table fits");
_Static_assert(AVAIL_OFFSET + sizeof(struct virtq_avail) <= USED_OFFSET, "available ring fits");
_Static_assert(USED_OFFSET + sizeof(struct virtq_used) <= PAGE_SIZE, "used ring fits");

static struct {
  uint64_t base;
  struct virtq_desc *desc;
  volatile struct virtq_avail *avail;
  volatile struct virtq_used *used;
  uint16_t avail_idx, used_seen;
  int read_only;
  struct blk_req_header header;
  volatile uint8_t status;
} vb;

static uint32_t rd(uint64_t base, uint32_t off) { return *(volatile uint32_t *)(uintptr_t)(base + off); }
static void wr(uint64_t base, uint32_t off, uint32_t v) { *(volatile uint32_t *)(uintptr_t)(base + off) = v; }
static void fence(void) { __asm__ volatile("fence rw, rw" ::: "memory"); }

static int vblk_request(struct blkdev *dev, uint64_t sector, void *buf, int write) {
  if (sector >= dev->sectors || (write && vb.read_only)) return -1;
  vb.header.type = write ? BLK_T_OUT : BLK_T_IN;
  vb.header.reserved = 0;
  vb.header.sector = sector;
  vb.status = 0xff;
  vb.desc[0] = (struct virtq_desc){(uint64_t)(uintptr_t)&vb.header, sizeof vb.header, DESC_F_NEXT, 1};
  vb.desc[1] = (struct virtq_desc){(uint64_t)(uintptr_t)buf, BLOCK_SIZE, (uint16_t)(DESC_F_NEXT | (write ? 0 : DESC_F_WRITE)), 2};
  vb.desc[2] = (struct virtq_desc){(uint64_t)(uintptr_t)&vb.status, 1, DESC_F_WRITE, 0};
  vb.avail->ring[vb.avail_idx % QSIZE] = 0;
  fence(); /* the chain before the index that publishes it (2.7.13) */
  vb.avail->idx = ++vb.avail_idx;
  fence();
  arch_virtio_notify(vb.base, 0);
  for (uint64_t polls = 0; vb.used->idx == vb.used_seen; polls++) {
    if (polls == MAX_POLLS) {
      printk("hvkit-kernel: virtio-blk: request for sector %lu never completed\n", sector);
      return -1;
    }
  }
  fence();
  vb.used_seen++;
  return vb.status == BLK_S_OK ? 0 : -1;
}

static int vblk_read(struct blkdev *dev, uint64_t sector, void *buf) { return vblk_request(dev, sector, buf, 0); }

static int vblk_write(struct blkdev *dev, uint64_t sector, const void *buf) {
  return vblk_request(dev, sector, (void *)buf, 1);
}

static struct blkdev vblk = {"virtio-blk", 0, vblk_read, vblk_write, NULL};

/* Bring up the device at base (3.1.1); NULL when it is not a usable virtio-blk. */
static struct blkdev *vblk_init(uint64_t base) {
  if (rd(base, MAGIC_VALUE) != VIRTIO_MAGIC || rd(base, VERSION) != 2 || rd(base, DEVICE_ID) != VIRTIO_ID_BLOCK)
    return NULL;
  wr(base, STATUS, 0);
  wr(base, STATUS, STATUS_ACKNOWLEDGE);
  wr(base, STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
  wr(base, DEVICE_FEATURES_SEL, 1);
  uint32_t high = rd(base, DEVICE_FEATURES);
  wr(base, DEVICE_FEATURES_SEL, 0);
  uint32_t low = rd(base, DEVICE_FEATURES);
  if (!(high & F_VERSION_1_HIGH)) {
    printk("hvkit-kernel: virtio-blk at 0x%lx: no VIRTIO_F_VERSION_1\n", base);
    return NULL;
  }
  wr(base, DRIVER_FEATURES_SEL, 0);
  wr(base, DRIVER_FEATURES, low & BLK_F_RO);
  wr(base, DRIVER_FEATURES_SEL, 1);
  wr(base, DRIVER_FEATURES, F_VERSION_1_HIGH);
  wr(base, STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
  if (!(rd(base, STATUS) & STATUS_FEATURES_OK)) {
    printk("hvkit-kernel: virtio-blk at 0x%lx: features refused\n", base);
    return NULL;
  }
  wr(base, QUEUE_SEL, 0);
  if (rd(base, QUEUE_READY) != 0 || rd(base, QUEUE_NUM_MAX) < QSIZE) return NULL;
  uint8_t *page = page_alloc();
  if (page == NULL) return NULL;
  vb.base = base;
  vb.desc = (struct virtq_desc *)page;
  vb.avail = (volatile struct virtq_avail *)(page + AVAIL_OFFSET);
  vb.used = (volatile struct virtq_used *)(page + USED_OFFSET);
  vb.avail->flags = AVAIL_F_NO_INTERRUPT; /* polled: no interrupts wanted */
  uint64_t pa = (uint64_t)(uintptr_t)page;
  wr(base, QUEUE_NUM, QSIZE);
  wr(base, QUEUE_DESC_LOW, (uint32_t)pa);
  wr(base, QUEUE_DESC_HIGH, (uint32_t)(pa >> 32));
  wr(base, QUEUE_DRIVER_LOW, (uint32_t)(pa + AVAIL_OFFSET));
  wr(base, QUEUE_DRIVER_HIGH, (uint32_t)((pa + AVAIL_OFFSET) >> 32));
  wr(base, QUEUE_DEVICE_LOW, (uint32_t)(pa + USED_OFFSET));
  wr(base, QUEUE_DEVICE_HIGH, (uint32_t)((pa + USED_OFFSET) >> 32));
  wr(base, QUEUE_READY, 1);
  wr(base, STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK);
  /* capacity (le64) in 512-byte sectors, read until ConfigGeneration is stable (4.2.2.2). */
  uint32_t gen, lo, hi;
  do {
    gen = rd(base, CONFIG_GENERATION);
    lo = rd(base, CONFIG);
    hi = rd(base, CONFIG + 4);
  } while (rd(base, CONFIG_GENERATION) != gen);
  vblk.sectors = ((uint64_t)hi << 32) | lo;
  vb.read_only = (low & BLK_F_RO) != 0;
  return &vblk;
}

struct blkdev *virtio_blk_probe(void) {
  for (int i = 0; i < boot.nvirtio; i++) {
    struct blkdev *dev = vblk_init(boot.virtio[i].base);
    if (dev != NULL) {
      printk("hvkit-kernel: block device virtio-blk at 0x%lx, %lu sectors%s\n", boot.virtio[i].base, dev->sectors,
             vb.read_only ? ", read-only" : "");
      return dev;
    }
  }
  return NULL;
}
