// Builds dist/cli.js (the `ennio` entry) with dist/program.mjs (the CLI; pure-JS npm dependencies bundled in) and
// dist/ennio-node.cjs (the daemon as ONE self-contained file, uploaded to remote hosts
// and run with their `node`). Type checking is `npm run typecheck`, kept separate so
// builds stay fast.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

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
rmSync('dist/web', { recursive: true, force: true });
mkdirSync('dist', { recursive: true });
// dist/cli.js is CommonJS; the program beside it is .mjs.
writeFileSync('dist/package.json', '{ "type": "commonjs" }\n');
/** Dependencies that load native code through paths relative to their own files: never bundled. */
const NATIVE_PACKAGES = ['better-sqlite3', 'ssh2', 'cpu-features', 'ws', 'bufferutil', 'utf-8-validate'];
/**
 * zod re-exports its ~45 locales through `z.locales` (585 KB, three quarters of its bundled
 * code, compiled by every command that loads zod). ennio's messages are English: `z.locales`
 * keeps only `en` (zod's default, which its schemas import on their own anyway).
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/]/.test(args.importer) ? { path: join(dirname(args.importer), '../locales/index.js'), namespace: 'zod-locales' } : undefined);
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(join(dirname(args.path), 'en.js'))};`,
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};
const common = { bundle: true, platform: 'node', target: 'node20', sourcemap: false, logLevel: 'warning', define };

const results = await Promise.all([
  build({
    ...common,
    // The program (every command), split so each command loads only what it uses (lazy
    // import()): a command the orchestrator answers never loads ssh2, Connect, SQLite or zod.
    entryPoints: { program: 'src/cli/program.ts' },
    outdir: 'dist',
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    splitting: true,
    format: 'esm',
    // Pure-JS dependencies are bundled: Node's ESM loader resolves, reads and compiles each
    // of a package's files on its own, so zod's ~100 files cost ~175 ms of CPU per command
    // where one bundled chunk costs ~80 ms (yaml 70 → 15 ms). Packages with native parts
    // (found through paths relative to their own files) stay external. Not minified:
    // it saved no measurable time, and stack traces (ENNIO_DEBUG=1) stay readable.
    external: NATIVE_PACKAGES,
    plugins: [zodEnglishOnly],
    // Bundled CommonJS (yaml, commander…) calls require() for Node's built-ins.
    banner: { js: "import { createRequire as __ennioRequire } from 'node:module'; const require = __ennioRequire(import.meta.url);" },
  }),
  // The `ennio` entry: ONE small CommonJS file (a CommonJS entry starts ~10 ms sooner than an
  // ES module, and one file instead of a dozen chunks saves more). It answers --version and
  // the hot commands through the orchestrator itself and loads dist/program.mjs for the rest.
  build({
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    format: 'cjs',
    metafile: true,
    // Node parses all of NODE_EXTRA_CA_CERTS before our first line (~35 ms for a system
    // bundle); no CLI command uses TLS, so Node starts with it empty and src/cli/caller-env.ts
    // puts the caller's value back. GNU and BSD env both take -S with ${VAR}.
    banner: { js: '#!/usr/bin/env -S ENNIO_CALLER_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS} NODE_EXTRA_CA_CERTS= node' },
    plugins: [{
      name: 'program-stays-apart',
      setup(b) {
        b.onResolve({ filter: /^\.\/program\.js$/ }, () => ({ path: './program.mjs', external: true }));
      },
    }],
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
  // The dashboard: Preact + htm + xterm.js for browsers, served by the orchestrator from
  // dist/web (no CDN: it works offline and loads nothing from elsewhere).
  build({
    entryPoints: { 'assets/app': 'src/web/main.ts' },
    outdir: 'dist/web',
    bundle: true,
    format: 'esm',
    // xterm.js is its own chunk, loaded with the first session page.
    splitting: true,
    chunkNames: 'assets/chunks/[name]-[hash]',
    metafile: true,
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16'],
    // ENNIO_WEB_DEBUG=1: readable code for the browser's profiler.
    minify: process.env['ENNIO_WEB_DEBUG'] !== '1',
    sourcemap: false,
    logLevel: 'warning',
    define,
    legalComments: 'none',
  }),
]);
copyFileSync('src/web/index.html', 'dist/web/index.html');
// First load of the dashboard, as sent (gzip): the overview (page, script, styles), and a
// session page opened directly (everything, the terminal's chunk included).
const LIMIT_KB = 300;
const gzipKb = (files) => Math.round(files.reduce((sum, f) => sum + gzipSync(readFileSync(join('dist/web', f)), { level: 9 }).length, 0) / 102.4) / 10;
// The entry must stay small: what it loads is paid by every command.
const entry = results[1].metafile.outputs['dist/cli.js'];
const ENTRY_LIMIT_KB = 64;
if (entry.bytes > ENTRY_LIMIT_KB * 1024) throw new Error(`dist/cli.js is ${Math.round(entry.bytes / 1024)} KB, over ${ENTRY_LIMIT_KB} KB: something heavy is imported statically on the CLI's hot path (src/cli/main.ts)`);
const { outputs } = results[results.length - 1].metafile;
/** A script and what it imports, statically only or dynamic imports too, as paths under dist/web. */
const closure = (file, dynamic, seen = new Set()) => {
  if (seen.has(file)) return seen;
  seen.add(file);
  for (const i of outputs[`dist/web/${file}`]?.imports ?? []) {
    if (i.kind === 'import-statement' || (dynamic && i.kind === 'dynamic-import')) closure(i.path.replace(/^dist\/web\//, ''), dynamic, seen);
  }
  return seen;
};
const overviewKb = gzipKb(['index.html', 'assets/app.css', ...closure('assets/app.js', false)]);
const sessionKb = gzipKb(['index.html', 'assets/app.css', ...closure('assets/app.js', true)]);
process.stdout.write(`dashboard first load: ${overviewKb} KB gzipped (overview), ${sessionKb} KB (a session page, terminal included); limit ${LIMIT_KB} KB\n`);
if (sessionKb > LIMIT_KB) throw new Error(`the dashboard's first load is ${sessionKb} KB gzipped, over ${LIMIT_KB} KB`);
chmodSync('dist/cli.js', 0o755);
chmodSync('dist/ennio-node.cjs', 0o755);
