import { describe, expect, it } from 'vitest';
import { scrubSecrets, secretVariableNames } from '../src/config/secret-env.js';

describe('secret variables', () => {
  const text = [
    '      auth: { type: password, password: "${TEST_ONLY_PW}" }',
    '      passphrase: ${SSH_KEY_PASS}',
    '      auth: { password: literal, other: ${NOT_ME} }',
    '      node_config: { auth_token: "${NODE_T}", port: ${PORT_X} }',
    '    repo: https://x:${GH_TOKEN}@host/r.git',
  ].join('\n');

  it('are the ${VAR}s written as values of secret keys, in block and flow style', () => {
    expect(secretVariableNames(text)).toEqual(['TEST_ONLY_PW', 'SSH_KEY_PASS', 'NODE_T']);
  });

  it('are removed from the environment, and nothing else is (not even a variable with the same value)', () => {
    const env: NodeJS.ProcessEnv = { TEST_ONLY_PW: '1', SHLVL: '1', NODE_T: 't', PORT_X: '22', SSH_PASSWORD: 'x', HOME: '/root' };
    expect(scrubSecrets(env, text).sort()).toEqual(['NODE_T', 'SSH_PASSWORD', 'TEST_ONLY_PW']);
    expect(env).toEqual({ SHLVL: '1', PORT_X: '22', HOME: '/root' });
  });
});
