/**
 * Notifications from the orchestrator: a command (the event as JSON on stdin) and a webhook
 * (a local HTTP server that fails the first POST, so the retry is exercised) receive exactly
 * the expected events — a finished turn, a question, an exit — and several exits at once
 * arrive as one summary. On a desktop (DISPLAY set) a rule without command or webhook runs
 * notify-send (a stand-in on PATH records its argv). The activity also reaches the SSE event stream.
 */
import { chmodSync, mkdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, waitFor, type World } from './helpers/cli.js';
import { fakeClaudeBin } from './helpers/fake-claude.js';

let w: World;
let hook: Server;
let notesFile: string;
let desktopFile: string;
const posts: Array<{ status: number; body: Notice }> = [];

interface Notice { type: string; session_id?: string; activity?: string; previous?: string; count?: number; counts?: Record<string, number> }

const notes = (): Notice[] => (existsSync(notesFile) ? readFileSync(notesFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Notice) : []);
const delivered = (): Notice[] => posts.filter((p) => p.status === 200).map((p) => p.body);
const describeNotice = (n: Notice): string => (n.type === 'summary' ? `summary:${n.count}` : `${n.session_id}:${n.activity}`);
const send = (id: string, text: string): void => {
  const res = w.run(['send', id, text]);
  if (res.code !== 0) throw new Error(`send failed: ${res.stderr}`);
};
const spawn = (prompt?: string): string => {
  const res = w.run(['spawn', 'app', '--json', ...(prompt ? ['--prompt', prompt] : [])]);
  if (res.code !== 0) throw new Error(`spawn failed: ${res.stderr}`);
  return (JSON.parse(res.stdout) as { id: string }).id;
};

beforeAll(async () => {
  w = createWorld();
  w.makeRepo();
  // A desktop: DISPLAY set, and a notify-send that records each call's arguments, one per line.
  const desk = join(w.dir, 'desk');
  mkdirSync(desk);
  desktopFile = join(w.dir, 'notify-send.txt');
  writeFileSync(join(desk, 'notify-send'), `#!/bin/sh\nline=$(printf '%s|' "$@")\nprintf '%s\\n' "$line" >> ${JSON.stringify(desktopFile)}\n`);
  chmodSync(join(desk, 'notify-send'), 0o755);
  w.env['DISPLAY'] = ':99';
  w.env['PATH'] = `${desk}:${fakeClaudeBin(w.dir)}:${w.env['PATH'] ?? ''}`;
  notesFile = join(w.dir, 'notes.jsonl');
  let first = true;
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const status = first ? 500 : 200; // the first delivery fails once: it must be retried, not lost or doubled
      first = false;
      posts.push({ status, body: JSON.parse(body) as Notice });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const port = (hook.address() as { port: number }).port;
  w.writeConfig([
    'server: { sweep_interval: 1s }',
    'activity: { quiet_after: 2s }',
    'notify: { debounce: 1500ms, burst: 3 }',
    'notifications:',
    '  - on: [waiting_input, idle, exited]',
    `    command: [sh, -c, 'cat >> "$1"', notify, ${JSON.stringify(notesFile)}]`,
    `    webhook: http://127.0.0.1:${port}/ennio`,
    '    min_working: 2s',
    '  - on: [waiting_input]', // no command, no webhook: the desktop
    'projects:',
    '  - name: app',
    '    path: ./repo',
    '    agent: claude-code',
    '    post_create: [git config user.name t && git config user.email t@t.invalid]',
    '',
  ].join('\n'));
});
afterAll(async () => {
  w.cleanup();
  await new Promise((r) => hook.close(r));
});

describe('notifications', () => {
  let id: string;

  it('a turn that worked long enough notifies idle; a question notifies waiting_input; a short turn does not notify', async () => {
    id = spawn('work 3');
    await waitFor(() => notes().length === 1, 'the idle notification');
    expect(notes().map(describeNotice)).toEqual([`${id}:idle`]);
    expect(notes()[0]).toMatchObject({ type: 'activity', previous: 'working' });
    send(id, 'ask');
    await waitFor(() => notes().length === 2, 'the waiting_input notification');
    expect(notes().map(describeNotice)[1]).toBe(`${id}:waiting_input`);
    await waitFor(() => existsSync(desktopFile) && readFileSync(desktopFile, 'utf8').endsWith('\n'), 'the desktop notification');
    expect(readFileSync(desktopFile, 'utf8')).toBe(`--app-name=ennio|ennio: ${id} needs you|app · ennio/${id} · local|\n`);
    send(id, '1'); // works 0.3 s after the answer: below min_working, no idle notification
    await waitFor(() => JSON.parse(w.run(['status', '--json']).stdout)[0].activity === 'idle', 'idle');
  });

  it('an exit notifies exited; the webhook got the same events, the failed POST retried once', async () => {
    send(id, 'exit');
    await waitFor(() => notes().length === 3, 'the exited notification');
    expect(notes().map(describeNotice)).toEqual([`${id}:idle`, `${id}:waiting_input`, `${id}:exited`]);
    await waitFor(() => delivered().length === 3, 'the webhook deliveries');
    expect(delivered().map(describeNotice)).toEqual(notes().map(describeNotice));
    expect(posts.filter((p) => p.status !== 200).map((p) => describeNotice(p.body))).toEqual([`${id}:idle`]);
  });

  it('several sessions exiting at once make one summary', async () => {
    const ids = [spawn(), spawn(), spawn()];
    await waitFor(() => (JSON.parse(w.run(['status', '--json']).stdout) as Array<{ id: string; activity: string }>).filter((s) => ids.includes(s.id) && s.activity === 'idle').length === 3, 'three idle sessions');
    for (const s of ids) w.tmux('send-keys', '-t', `=${s}:`, 'exit', 'Enter');
    await waitFor(() => notes().length === 4, 'the summary');
    const summary = notes()[3]!;
    expect(summary).toMatchObject({ type: 'summary', count: 3, counts: { exited: 3 } });
    await waitFor(() => delivered().length === 4, 'the webhook summary');
    expect(delivered()[3]).toMatchObject({ type: 'summary', count: 3 });
  });

  it('the SSE event stream carries the activity changes', async () => {
    const socket = join(w.home, 'ennio.sock');
    const text = await new Promise<string>((resolve, reject) => {
      const req = request({ socketPath: socket, path: '/api/v1/events?after=0' }, (res) => {
        let buf = '';
        res.on('data', (d: Buffer) => {
          buf += d.toString();
          if (buf.includes('event: activity') && buf.includes('"activity":"waiting_input"')) {
            req.destroy();
            resolve(buf);
          }
        });
      });
      req.on('error', (e) => (e.message.includes('aborted') ? undefined : reject(e)));
      req.end();
    });
    expect(text).toContain(`"session_id":"${id}"`);
  });
});
