import { describe, expect, it } from 'vitest';
import { redact } from '../src/config/redact.js';

describe('redact', () => {
  it('replaces every secret, deeply, without touching the original', () => {
    const config = {
      projects: [
        {
          name: 'a',
          ssh_config: {
            host: 'h',
            auth: { type: 'key', path: '~/.ssh/id', passphrase: 'p1' },
            node_config: { port: 9100, auth_token: 'tok' },
          },
        },
        { name: 'b', ssh_config: { host: 'h', auth: { type: 'password', password: 'pw' } } },
      ],
    };
    const out = redact(config);
    expect(JSON.stringify(out)).not.toMatch(/"p1"|"tok"|"pw"/);
    expect(out.projects[0]?.ssh_config.auth).toEqual({ type: 'key', path: '~/.ssh/id', passphrase: '***' });
    expect(out.projects[0]?.ssh_config.node_config).toEqual({ port: 9100, auth_token: '***' });
    expect(out.projects[1]?.ssh_config.auth).toEqual({ type: 'password', password: '***' });
    expect(config.projects[0]?.ssh_config.auth.passphrase).toBe('p1');
  });
});
