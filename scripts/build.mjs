// Builds dist/cli.js (the `ennio` CLI; npm dependencies stay external) and
// dist/ennio-node.cjs (the daemon as ONE self-contained file, uploaded to remote hosts
// and run with their `node`). Type checking is `npm run typecheck`, kept separate so
// builds stay fast.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
// The build id: a hash of every source file, so a CLI and an orchestrator of different
// builds notice it and the orchestrator is replaced.
const hash = createHash('sha256');
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else hash.update(p).update(readFileSync(p));
  }
};
walk('src');
hash.update(JSON.stringify(pkg));
const define = { __ENNIO_VERSION__: JSON.stringify(pkg.version), __ENNIO_BUILD__: JSON.stringify(hash.digest('hex').slice(0, 12)) };
// Code-split chunks of an older build must not linger next to the new ones.
rmSync('dist/chunks', { recursive: true, force: true });
const common = { bundle: true, platform: 'node', target: 'node20', sourcemap: false, logLevel: 'warning', define };

await Promise.all([
  build({
    ...common,
    // Split so each command loads only what it uses (lazy import()): a command the
    // orchestrator answers never loads ssh2, Connect, SQLite or zod.
    entryPoints: { cli: 'src/cli/main.ts' },
    outdir: 'dist',
    chunkNames: 'chunks/[name]-[hash]',
    splitting: true,
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
