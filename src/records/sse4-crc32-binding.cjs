// The sse4_crc32 addon, required by its literal path (not through the package's `bindings` lookup) so that
// `bun build --compile` embeds it in the single binary.
module.exports = require('sse4_crc32/build/Release/crc32c.node');
