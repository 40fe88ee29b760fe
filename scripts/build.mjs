// Builds dist/cli.js (the `ennio` CLI; npm dependencies stay external) and
// dist/ennio-node.cjs (the daemon as ONE self-contained file, uploaded to remote hosts
// and run with their `node`). Type checking is `npm run typecheck`, kept separate so
// builds stay fast.
import { build } from 'esbuild';
import { chmodSync, readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const define = { __ENNIO_VERSION__: JSON.stringify(pkg.version) };
const common = { bundle: true, platform: 'node', target: 'node20', sourcemap: false, logLevel: 'warning', define };

await Promise.all([
  build({
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    format: 'esm',
    packages: 'external',
    banner: { js: '#!/usr/bin/env node' },
  }),
  build({
    ...common,
    entryPoints: ['src/demo/demo-agent.ts'],
    outfile: 'dist/demo-agent.cjs',
    format: 'cjs',
  }),
  build({
    ...common,
    entryPoints: ['src/node/daemon/main.ts'],
    outfile: 'dist/ennio-node.cjs',
    format: 'cjs',
    external: ['*.node'],
    banner: { js: '#!/usr/bin/env node' },
  }),
]);
chmodSync('dist/cli.js', 0o755);
chmodSync('dist/ennio-node.cjs', 0o755);
