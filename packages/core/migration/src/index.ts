/**
 * @hvkit/migration — live migration of hvkit VMs: dirty-page logging
 * (`DirtyLog`), the iterative pre-copy engine and its wire protocol over any
 * byte stream. TCP transports are in `@hvkit/migration/node`.
 */
export { DirtyLog } from "./dirty.js";
