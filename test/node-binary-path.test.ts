/**
 * A configured `ennio_binary_path` through a real OpenSSH sshd: started the spec's way
 * (token in ENNIO_NODE_AUTH_TOKEN, only spec flags) without uploading, a missing one
 * replaced by an upload with a warning, another version reported but never upgraded, and
 * its port forwarded locally for other gRPC clients.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as loader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshHostRegistry } from '../src/host/ssh/registry.js';
import type { SshHost } from '../src/host/ssh/ssh-host.js';
import { findBundle } from '../src/node/client/bundle.js';
import { forwardLocalPort } from '../src/node/client/local-forward.js';
import { Cleanup, ROOT, buildDaemonBundle, tempDir } from './helpers/node-daemon.js';
import { nodeEnv, RecordingSshHost, remoteNode } from './helpers/node-ssh.js';
import { sshdSkipReason, startSshd, type TestSshd } from './helpers/sshd.js';
import { targetFor } from './helpers/ssh-env.js';

const skip = sshdSkipReason();
if (skip) console.log(`skipping configured ennio_binary_path tests: ${skip}`);
const PKG_VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe.skipIf(skip !== undefined)('a configured ennio_binary_path', () => {
  const cleanup = new Cleanup();
  const registry = new SshHostRegistry();
  let sshd: TestSshd;
  let host: SshHost;
  let dir: string;

  beforeAll(async () => {
    await buildDaemonBundle();
    dir = cleanup.dir(tempDir('nbin'));
    sshd = await startSshd();
    cleanup.add(() => sshd.stop());
    cleanup.add(() => registry.closeAll());
    host = registry.get(targetFor(sshd, join(dir, 'known_hosts')), { warn: () => undefined });
  });
  afterAll(() => cleanup.run());

  it('uploads its own daemon, with a warning, when the configured ennio_binary_path is missing', async () => {
    const env = await nodeEnv(cleanup, join(dir, 'nobin'));
    const warnings: string[] = [];
    const missing = join(env.dir, 'not-installed', 'ennio-node');
    const node = remoteNode(host, env, { binaryPath: missing, warn: (m) => warnings.push(m) });
    cleanup.add(() => node.close());
    const hb = await node.ensure();
    expect(hb.buildId).toBe(findBundle().sha256);
    expect(node.deployments).toBe(1);
    expect(existsSync(join(env.remoteDir, findBundle().sha256.slice(0, 16), 'ennio-node.cjs'))).toBe(true);
    expect(warnings).toEqual([expect.stringContaining(`ennio_binary_path ${missing} does not exist on ${host.label}; uploading`)]);
  });

  it('starts a configured binary the spec way: token in ENNIO_NODE_AUTH_TOKEN, output redirected, only spec flags', async () => {
    const env = await nodeEnv(cleanup, join(dir, 'specbin'));
    // A daemon that knows only the spec's interface: refuses our own extra flags, needs the env token.
    const bin = join(env.dir, 'bin', 'ennio-node');
    mkdirSync(join(env.dir, 'bin'), { recursive: true });
    writeFileSync(
      bin,
      [
        '#!/bin/sh',
        'for a in "$@"; do case $a in --auth-token*|--log-file*) echo "spec-only ennio-node: unknown option $a" >&2; exit 2;; esac; done',
        '[ -n "${ENNIO_NODE_AUTH_TOKEN:-}" ] || { echo "spec-only ennio-node: no ENNIO_NODE_AUTH_TOKEN" >&2; exit 2; }',
        `exec "${process.execPath}" "${join(ROOT, 'dist/ennio-node.cjs')}" "$@"`,
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    const recorder = new RecordingSshHost(targetFor(sshd, join(dir, 'known_hosts')), { warn: () => undefined });
    cleanup.add(() => recorder.close());
    const warnings: string[] = [];
    const node = remoteNode(recorder, env, { binaryPath: bin, warn: (m) => warnings.push(m), version: PKG_VERSION });
    cleanup.add(() => node.close());
    const hb = await node.ensure();
    expect(node.deployments).toBe(1);
    expect(existsSync(join(env.remoteDir, findBundle().sha256.slice(0, 16)))).toBe(false); // nothing uploaded
    const token = readFileSync(join(env.remoteDir, 'token'), 'utf8').trim();
    const cmdline = readFileSync(`/proc/${hb.pid}/cmdline`, 'utf8');
    expect(cmdline).toContain('--port');
    expect(cmdline).not.toContain('--auth-token');
    expect(cmdline).not.toContain(token);
    expect(recorder.leaking(token)).toEqual([]);
    // stdout/stderr went to the log file through the shell; the token came from the environment.
    const log = readFileSync(join(env.remoteDir, `daemon-${env.port}.log`), 'utf8');
    expect(log).toContain('"msg":"listening"');
    expect(log).toContain('"source":"env"');
    expect(log).not.toContain(token);
    expect(warnings).toEqual([]); // same version as ours: nothing to report
    expect(await node.status()).toMatchObject({ kind: 'running', current: true });
  });

  it('reports a configured binary of another version, and says it cannot upgrade it', async () => {
    const env = await nodeEnv(cleanup, join(dir, 'oldbin'));
    const oldBin = await buildDaemonBundle({ outfile: join(env.dir, 'old', 'ennio-node.cjs'), version: '0.0.1-old' });
    const warnings: string[] = [];
    const node = remoteNode(host, env, { binaryPath: oldBin, warn: (m) => warnings.push(m), version: PKG_VERSION });
    cleanup.add(() => node.close());
    const hb = await node.ensure();
    expect(hb.version).toBe('0.0.1-old');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`reports version 0.0.1-old, but this ennio is ${PKG_VERSION}`);
    expect(warnings[0]).toContain('ennio does not upgrade a configured binary');
    // Another orchestrator: warned again, and the daemon is left as it is.
    const again = remoteNode(host, env, { binaryPath: oldBin, warn: (m) => warnings.push(m), version: PKG_VERSION });
    cleanup.add(() => again.close());
    expect((await again.ensure()).pid).toBe(hb.pid);
    expect(again.deployments).toBe(0);
    expect(warnings).toHaveLength(2);
    const status = await again.status();
    expect(status).toMatchObject({ kind: 'running', current: false });
    expect(status.kind === 'running' ? status.note : '').toContain('does not upgrade a configured ennio_binary_path');
  });

  it('starts a configured ennio_binary_path without uploading, and exposes a local port for other clients', async () => {
    const env = await nodeEnv(cleanup, join(dir, 'f'));
    const node = remoteNode(host, env, { binaryPath: join(ROOT, 'dist/ennio-node.cjs'), token: 'configured-token-123' });
    cleanup.add(() => node.close());
    await node.ensure();
    expect(existsSync(join(env.remoteDir, findBundle().sha256.slice(0, 16)))).toBe(false);

    const local = await forwardLocalPort(() => host.forwardOut('127.0.0.1', env.port));
    cleanup.add(() => local.close());
    const def = loader.loadSync(join(ROOT, 'proto/ennio_node.proto'), { keepCase: true, defaults: true });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { ennio_node: { EnnioNode: new (a: string, c: grpc.ChannelCredentials) => grpc.Client & { Heartbeat: (r: object, m: grpc.Metadata, cb: (e: grpc.ServiceError | null, r: { healthy: boolean }) => void) => void } } };
    const stub = new pkg.ennio_node.EnnioNode(`127.0.0.1:${local.port}`, grpc.credentials.createInsecure());
    cleanup.add(() => stub.close());
    const md = new grpc.Metadata();
    md.set('authorization', 'Bearer configured-token-123');
    const res = await new Promise<{ healthy: boolean }>((resolve, reject) => stub.Heartbeat({}, md, (e, r) => (e ? reject(e) : resolve(r))));
    expect(res.healthy).toBe(true);
  });
});
