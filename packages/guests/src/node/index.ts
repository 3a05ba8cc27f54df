/**
 * @hvkit/guests/node — Node-only helpers: hvkit's own guest images (and
 * their reproducible build), build an initramfs from files on disk, and
 * fetch Debian's riscv64 kernel and busybox into a local cache.
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
  type BuildGuestImagesOptions,
  buildGuestImages,
  checkGuestImages,
  GUEST_IMAGE_DIR,
  GUEST_IMAGE_NAMES,
  GUEST_MANIFEST,
  GUEST_SOURCE_DIR,
  type GuestImageName,
  type GuestImagesCheck,
  type GuestImagesManifest,
  guestSourcesDigest,
  readGuestImagesManifest,
} from "./build-images.js";
export {
  HVKIT_ECHO_INPUT,
  HVKIT_TEST_SIZES,
  type HvkitContractGuest,
  type HvkitGuestConfig,
  type HvkitGuestOptions,
  hvkitBareMetalGuests,
  hvkitImagePath,
  hvkitKernelGuests,
  readHvkitImage,
} from "./hvkit-guests.js";
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
export {
  buildLinuxInitramfs,
  LINUX_EXT4_MODULES,
  LINUX_VIRTIO_BLK_MODULES,
  LINUX_VIRTIO_RNG_MODULES,
  type LinuxInitramfsOptions,
  type ReadLinuxModulesOptions,
  readLinuxModules,
  stripModuleSignature,
} from "./linux-modules.js";
