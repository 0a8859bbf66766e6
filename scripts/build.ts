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

/**
 * etcd3 reads its gRPC `.proto` files from node_modules when it loads (`loadSync(__dirname/../proto/...)`),
 * which a compiled binary does not carry. The plugin parses them at build time and embeds the result:
 * the same definitions through @grpc/proto-loader's `fromJSON`, with the options etcd3 passes.
 */
const ETCD_PROTO_LOAD = /\(0, proto_loader_1\.loadSync\)\(`\$\{__dirname\}\/\.\.\/proto\/rpc\.proto`,/;

async function etcdProtoJson(): Promise<string> {
  const protobuf = await import('protobufjs');
  const protoDir = path.join(root, 'node_modules/etcd3/proto');
  const rootNamespace = new protobuf.Root();
  rootNamespace.resolvePath = (_origin, target) => path.join(protoDir, path.basename(target));
  rootNamespace.loadSync(path.join(protoDir, 'rpc.proto'), { keepCase: true });
  return JSON.stringify(rootNamespace.toJSON());
}

const literalNativeRequires: BunPlugin = {
  name: 'literal-native-requires',
  setup(build) {
    build.onLoad({ filter: /etcd3[\\/]lib[\\/]connection-pool\.js$/ }, async (args) => {
      const source = await Bun.file(args.path).text();
      if (!ETCD_PROTO_LOAD.test(source)) {
        throw new Error(`etcd3 changed how it loads rpc.proto (${args.path}): update scripts/build.ts`);
      }
      const contents = source.replace(
        ETCD_PROTO_LOAD,
        `(0, proto_loader_1.fromJSON)(${await etcdProtoJson()},`,
      );
      return { contents, loader: 'js' };
    });
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
