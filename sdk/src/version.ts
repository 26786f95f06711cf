/**
 * The plugin contract version. A plugin declares the version it was written
 * against; the kernel refuses one whose major version differs from this.
 */
export const SDK_CONTRACT_VERSION = 1;

export const CODEPIPER_VERSION = '0.1.0';
