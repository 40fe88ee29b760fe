/** The argv pre-pass (src/cli/argv.ts) against the real command definitions, without running anything. */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { commandWord, prepareArgv } from '../src/cli/argv.js';
import { registerDriveCommands } from '../src/cli/drive-commands.js';
import { registerSessionCommands } from '../src/cli/session-commands.js';

function program(): Command {
  const p = new Command('ennio')
    .option('-c, --config <path>')
    .option('--json')
    .option('--no-server')
    .enablePositionalOptions()
    .exitOverride();
  registerSessionCommands(p, () => ({ json: false }));
  registerDriveCommands(p, () => ({ json: false }));
  return p;
}
const prep = (...argv: string[]): ReturnType<typeof prepareArgv> => prepareArgv(program(), argv);

describe('send: every word after the id is the message', () => {
  it.each([
    [['send', 'id', '--file=/etc/passwd'], ['send', 'id', '--', '--file=/etc/passwd']],
    [['send', 'id', '--help'], ['send', 'id', '--', '--help']],
    [['send', 'id', '-n', '5'], ['send', 'id', '--', '-n', '5']],
    [['send', 'id', 'use', '--json', 'here'], ['send', 'id', '--', 'use', '--json', 'here']],
    [['send', 'id', '-c', 'x'], ['send', 'id', '--', '-c', 'x']],
    [['send', 'id', '--', '--help'], ['send', 'id', '--', '--help']],
    [['send', 'id', 'a', '--', 'b'], ['send', 'id', '--', 'a', '--', 'b']],
    [['send', '--', 'id', '--help'], ['send', '--', 'id', '--help']],
  ])('%j', (argv, args) => {
    expect(prep(...argv)).toEqual({ json: false, args });
  });

  it('keeps options before the id, with --json among them', () => {
    expect(prep('send', '--json', '-f', '--json', 'id', '--json')).toEqual({ json: true, args: ['send', '-f', '--json', 'id', '--', '--json'] });
    expect(prep('--json', 'send', '--file', '-', 'id')).toEqual({ json: true, args: ['send', '--file', '-', 'id', '--'] });
    expect(prep('send', '--help')).toEqual({ json: false, args: ['send', '--help'] });
  });
});

describe('option values are data', () => {
  it('never takes a value for --json or for a command word', () => {
    expect(prep('spawn', 'app', '-p', '--json', '-b', '--help', '--json')).toEqual({ json: true, args: ['spawn', 'app', '-p', '--json', '-b', '--help'] });
    expect(prep('-c', '--json', 'status')).toEqual({ json: false, args: ['-c', '--json', 'status'] });
    expect(prep('logs', 'id', '-n', '5', '--json')).toEqual({ json: true, args: ['logs', 'id', '-n', '5'] });
  });

  it('moves global options written after the command words in front of them', () => {
    expect(prep('session', 'list', '-c', 'f.yaml', '--no-server')).toEqual({ json: false, args: ['-c', 'f.yaml', '--no-server', 'session', 'list'] });
    expect(prep('spawn', 'app', '--config=f.yaml', '-p', '-c')).toEqual({ json: false, args: ['--config=f.yaml', 'spawn', 'app', '-p', '-c'] });
    expect(prep('send', '-c', 'f.yaml', 'id', '-c', 'g')).toEqual({ json: false, args: ['-c', 'f.yaml', 'send', 'id', '--', '-c', 'g'] });
    expect(prep('status', '-cf.yaml', 'app')).toEqual({ json: false, args: ['-cf.yaml', 'status', 'app'] });
    expect(prep('logs', 'id', '-n5', '-f')).toEqual({ json: false, args: ['logs', 'id', '-n5', '-f'] });
  });

  it('finds the command word past global options and their values', () => {
    expect(commandWord(program(), ['-c', 'send', 'status'])).toBe('status');
    expect(commandWord(program(), ['--json', '--no-server', 'config'])).toBe('config');
    expect(commandWord(program(), ['--', 'send'])).toBeUndefined();
  });
});

describe('commander gets what the user meant', () => {
  it('parses a send with option-looking words into the message', async () => {
    const p = program();
    let seen: unknown;
    p.commands.find((c) => c.name() === 'send')!.action((id: string, words: string[], opts: object) => {
      seen = { id, words, opts };
    });
    await p.parseAsync(prepareArgv(p, ['send', '-f', 'F', 'id', '--help', '-n', '5']).args, { from: 'user' });
    expect(seen).toEqual({ id: 'id', words: ['--help', '-n', '5'], opts: { file: 'F' } });
  });

  it('parses spawn option values that look like options, and a global option after them', async () => {
    const p = program();
    let seen: unknown;
    p.commands.find((c) => c.name() === 'spawn')!.action((project: string, opts: object) => {
      seen = { project, opts, config: p.opts()['config'] };
    });
    await p.parseAsync(prepareArgv(p, ['spawn', 'app', '-p', '--json', '-i', '-n', '-c', 'f.yaml', '-b', '--no-server']).args, { from: 'user' });
    expect(seen).toEqual({ project: 'app', opts: { prompt: '--json', issue: '-n', branch: '--no-server' }, config: 'f.yaml' });
  });
});
