// The sse4_crc32 addon, required by its literal path (not through the package's `bindings` lookup) so that
// `bun build --compile` embeds it in the single binary. It is an optional dependency built by node-gyp at
// install time; when it was not built (for example `bun install`, which does not run its build script),
// this exports null and crc32c-native.ts falls back to @node-rs/crc32.
try {
  module.exports = require('sse4_crc32/build/Release/crc32c.node');
} catch {
  module.exports = null;
}
