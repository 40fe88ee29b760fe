/** A post_create that leaves a job running must not leak its output into later commands on the pooled SSH shells. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { project as projectSchema } from '../src/config/schema.js';
import { SshHostRegistry } from '../src/host/ssh/registry.js';
import { prepareWorkspace } from '../src/services/launch.js';
import { targetFor, tempDir } from './helpers/ssh-env.js';
import { sshdSkipReason, startSshd, type TestSshd } from './helpers/sshd.js';

const skip = sshdSkipReason();
if (skip) console.log(`skipping post_create leak test: ${skip}`);

describe.skipIf(skip !== undefined)('post_create with a background job over SSH', () => {
  let sshd: TestSshd;
  const dir = tempDir('ennio-bg-');
  const registry = new SshHostRegistry();
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await registry.closeAll();
    await sshd?.stop();
    dir.remove();
  });

  it('keeps the output of later commands clean', async () => {
    const kh = join(dir.path, 'kh');
    writeFileSync(kh, `${sshd.knownHostsLines.join('\n')}\n`);
    const host = registry.get(targetFor(sshd, kh, { host_key_policy: 'strict' }), { max: 1 }); // one channel: every command reuses it
    const project = projectSchema.parse({
      name: 'bg', path: dir.path,
      // Shell builtins only (no fork per line), bounded: prints for well under a second.
      post_create: ['echo setting up', '(i=0; while [ $i -lt 100000 ]; do echo LEAKED; i=$((i+1)); done) &'],
    });
    await prepareWorkspace(host, project, dir.path, dir.path, {});
    const outputs: string[] = [];
    // While the job would still be printing, run commands back to back on the same channel.
    for (let i = 0; i < 100; i++) outputs.push((await host.exec(['printf', '%s', `clean-${i}`])).stdout);
    expect(outputs).toEqual(Array.from({ length: 100 }, (_, i) => `clean-${i}`));
  });
});
