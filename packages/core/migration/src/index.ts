/**
 * @hvkit/migration — live migration of hvkit VMs: dirty-page logging
 * (`DirtyLog`), iterative pre-copy with Xen's stop conditions (`migrate`,
 * `receive`) over any message channel. TCP is in `@hvkit/migration/node`.
 */
export {
  type Channel,
  channelPair,
  disconnected,
  Inbox,
  MigrationError,
  type MigrationErrorCode,
  receiveWithin,
} from "./channel.js";
export { DirtyLog } from "./dirty.js";
export {
  type MigrationOptions,
  type MigrationReport,
  migrate,
  type ReceivedVm,
  type ReceiveOptions,
  type RoundReport,
  receive,
  type StopCondition,
} from "./precopy.js";
