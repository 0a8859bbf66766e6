/**
 * @module
 * `npm run build`: compiles the whole broker (CLI, main thread and worker entries) into one executable,
 * `dist/freshet`, with `bun build --compile`, and bundles the client for Node and browsers into
 * `dist/client/index.js` (the `default` export of `freshet/client`; Bun and Deno load the sources).
 *
 * Native addons are embedded by Bun only when they are required by a literal path (see
 * src/records/sse4-crc32-binding.cjs). zstd-napi is not needed in the binary: Bun has zstd in `node:zlib`,
 * which compression.ts prefers, so its loader (a computed path Bun cannot follow) is replaced by a stub.
 */
import path from 'node:path';
import type { BunPlugin } from 'bun';

const root = path.resolve(import.meta.dir, '..');
const outfile = process.argv[2] ?? path.join(root, 'dist', 'freshet');

const literalNativeRequires: BunPlugin = {
  name: 'literal-native-requires',
  setup(build) {
    build.onLoad({ filter: /zstd-napi[\\/]binding\.js$/ }, () => ({
      contents:
        "module.exports = new Proxy({}, { get() { throw new Error('zstd-napi is not part of the binary: Bun has zstd in node:zlib'); } });",
      loader: 'js',
    }));
  },
};

const result = await Bun.build({
  entrypoints: [
    path.join(root, 'src/cli/main.ts'),
    path.join(root, 'workers/partition-worker.ts'),
    path.join(root, 'workers/coordinator-worker.ts'),
  ],
  root,
  compile: { outfile },
  minify: true,
  plugins: [literalNativeRequires],
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
console.log(`built ${outfile}`);

const client = await Bun.build({
  entrypoints: [path.join(root, 'src/client/index.ts')],
  outdir: path.join(path.dirname(outfile), 'client'),
  target: 'browser',
  format: 'esm',
});
if (!client.success) {
  for (const log of client.logs) console.error(log);
  process.exit(1);
}
console.log(`built ${path.join(path.dirname(outfile), 'client/index.js')}`);
