/**
 * The daemon bundle this orchestrator deploys (dist/ennio-node.cjs, built by
 * scripts/build.mjs). Its sha256 is its identity: the remote copy lives in a directory
 * named after it, and a running daemon whose build_id differs is upgraded.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { distFileCandidates } from '../../core/dist-file.js';
import { EnnioError } from '../../core/errors.js';

export interface LocalBundle {
  path: string;
  data: Buffer;
  sha256: string;
}

/** Where to look: an explicit path, $ENNIO_NODE_BUNDLE, next to dist/cli.js, or dist/ from source. */
function candidates(explicit?: string): string[] {
  const list: string[] = [];
  if (explicit !== undefined) return [explicit];
  const env = process.env['ENNIO_NODE_BUNDLE'];
  if (env) list.push(env);
  list.push(...distFileCandidates('ennio-node.cjs'));
  return list;
}

const cache = new Map<string, LocalBundle>();

export function findBundle(explicit?: string): LocalBundle {
  const tried = candidates(explicit);
  const path = tried.find((p) => existsSync(p));
  if (path === undefined) {
    throw new EnnioError('NODE_UNAVAILABLE', `the ennio-node bundle was not found (looked at ${tried.join(', ')})`, {
      hint: 'build it with: npm run build (or set node_config.ennio_binary_path to a daemon installed on the remote host)',
    });
  }
  let bundle = cache.get(path);
  if (bundle === undefined) {
    const data = readFileSync(path);
    bundle = { path, data, sha256: createHash('sha256').update(data).digest('hex') };
    cache.set(path, bundle);
  }
  return bundle;
}
