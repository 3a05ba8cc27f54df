/**
 * @hvkit/guests/node — Node-only helpers: build an initramfs from files on
 * disk, and fetch Debian's riscv64 kernel and busybox into a local cache.
 */
export {
  type AptSource,
  DEBIAN_SUITES,
  hostCodename,
  parseDeb822Sources,
  parseOneLineSources,
  pickDebianMirror,
  readHostAptSources,
} from "./apt-sources.js";
export {
  buildInitramfsFromFiles,
  type InitramfsFileOptions,
  type InitramfsFileResult,
  writeInitramfsFile,
} from "./initramfs.js";
export {
  BUSYBOX_PACKAGE,
  DEBIAN_KEYRING,
  defaultCacheDir,
  GUEST_ARCH,
  GUEST_SUITE,
  KERNEL_METAPACKAGE,
  kernelDependency,
  type LinuxFetchOptions,
  type LinuxFetchResult,
  type LinuxManifest,
  linuxFetch,
  linuxManifestPath,
  MANIFEST_VERSION,
  readLinuxManifest,
} from "./linux-fetch.js";
export {
  DEBIAN_OPENSBI_FW_DYNAMIC,
  LINUX_MAX_STEPS,
  type LinuxGuestOptions,
  linuxContractGuest,
  linuxTranscript,
} from "./linux-guest.js";
