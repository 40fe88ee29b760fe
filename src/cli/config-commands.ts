/** init, config schema|validate|show. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { findConfig } from '../config/discover.js';
import { writeStarter } from '../config/init-template.js';
import { configJsonSchema } from '../config/json-schema.js';
import { loadConfig } from '../config/load.js';
import { redact } from '../config/redact.js';
import type { GlobalOptions } from './context.js';
import { printJson } from './output.js';
import { stringify } from 'yaml';

const DURATION_KEYS = new Set(['connection_timeout', 'keepalive_interval', 'url_timeout']);

/** Durations are held in ms but written like `30s`; show them so the output can be pasted back. */
function withReadableDurations<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withReadableDurations) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, DURATION_KEYS.has(k) && typeof v === 'number' ? (v % 1000 === 0 ? `${v / 1000}s` : `${v}ms`) : withReadableDurations(v)]),
  ) as T;
}

export function registerConfigCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command('init')
    .description('write a commented starter ennio.yaml (never overwrites)')
    .argument('[dir]', 'directory', '.')
    .action((dir: string) => {
      const path = writeStarter(resolve(dir));
      if (globals().json) printJson({ path });
      else process.stdout.write(`wrote ${path}\nnext: edit it, then run: ennio config validate && ennio spawn <project>\n`);
    });

  const config = program.command('config').description('the configuration file');
  config
    .command('schema')
    .description('print the JSON Schema of ennio.yaml')
    .action(() => printJson(configJsonSchema()));

  config
    .command('validate')
    .description('check a config file and report every problem with file:line:col')
    .argument('[file]')
    .action((file: string | undefined) => {
      const g = globals();
      const path = file ? resolve(file) : findConfig(process.cwd(), g.config);
      const loaded = loadConfig(path);
      if (g.json) return printJson({ path, valid: true, projects: loaded.config.projects.length, warnings: loaded.warnings });
      for (const w of loaded.warnings) process.stderr.write(`warning: ${w}\n`);
      process.stdout.write(`${path}: valid (${loaded.config.projects.length} project(s))\n`);
    });

  config
    .command('show')
    .description('print the effective config (defaults filled in, ${VAR}s expanded, secrets redacted)')
    .action(() => {
      const g = globals();
      const path = findConfig(process.cwd(), g.config);
      const effective = withReadableDurations(redact(loadConfig(path).config, { env: process.env }));
      if (g.json) printJson(effective);
      else process.stdout.write(`# ${path}\n${stringify(effective)}`);
    });
}
