/**
 * @hvkit/io-emulated: full device emulation. Every register of the device is
 * modeled, and under a virtualizing strategy every guest access to one is an
 * MMIO exit that the VMM emulates: the ns16550a UART (the machine's model,
 * the console of every VM) and a programmed-I/O block controller.
 */
import type { VirtioSlotFactory } from "@hvkit/machine";
import { PioBlk, type PioBlkOptions } from "./pio-blk.js";

/**
 * The emulated UART is the machine's: every board has one at 0x1000_0000
 * (PLIC source 10), the console of every VM. It is re-exported here, where
 * the emulated devices are composed, rather than duplicated.
 */
export {
  UART_FIFO_SIZE,
  UART_SIZE,
  Uart16550,
  type UartEvents,
  type UartOptions,
  type UartState,
} from "@hvkit/machine";
export { IoEmulatedError, type IoEmulatedErrorCode } from "./errors.js";
export {
  PIO_BLK_COMPATIBLE,
  PIO_BLK_ID,
  PIO_BLK_MAX_COUNT,
  PIO_BLK_SIZE,
  PIO_BLK_VERSION,
  PIO_CMD,
  PIO_CONTROL,
  PIO_ERR,
  PIO_REG,
  PIO_STATUS,
  PioBlk,
  type PioBlkCounters,
  type PioBlkOptions,
  type PioBlkState,
  SECTOR_SIZE,
} from "./pio-blk.js";

/**
 * A `VmConfig.devices` entry: the programmed-I/O block controller in a
 * board slot (at 0x1000_1000 + 0x1000 * slot, PLIC source 1 + slot),
 * described in the devicetree as "hvkit,pio-blk". Give it a {@link PioBlk}
 * or the options of a new one.
 */
export function pioBlk(device: PioBlk | PioBlkOptions): VirtioSlotFactory {
  const dev = device instanceof PioBlk ? device : new PioBlk(device);
  return (context) => {
    dev.attach(`pio${context.slot}-blk`, context.irq);
    return dev;
  };
}
