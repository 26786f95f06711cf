/**
 * The plugin API's version (semver): what `definePlugin`, services, hooks,
 * endpoints, the store, the logger, errors and the test kit offer a plugin.
 * A plugin names the range it works with (`api: '^1.0.0'`); the kernel
 * refuses one whose range does not include this version.
 */
export const PLUGIN_API_VERSION = '1.0.0';

export const CODEPIPER_VERSION = '0.1.0';
