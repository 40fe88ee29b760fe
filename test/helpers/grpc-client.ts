/**
 * A gRPC client that is not ours: @grpc/grpc-js loading proto/ennio_node.proto, the way
 * any standard client would talk to ennio-node (snake_case fields as in the .proto).
 */
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as loader from '@grpc/proto-loader';
import { ROOT, type Cleanup } from './node-daemon.js';

export interface GrpcError { code: number; details: string }
type Unary = (req: object, md: grpc.Metadata, cb: (err: GrpcError | null, res: Record<string, unknown>) => void) => void;
export type EnnioNodeStub = grpc.Client & Record<string, Unary>;

const def = loader.loadSync(join(ROOT, 'proto/ennio_node.proto'), { keepCase: true, longs: String, defaults: true });
const pkg = grpc.loadPackageDefinition(def) as unknown as { ennio_node: { EnnioNode: new (addr: string, creds: grpc.ChannelCredentials) => EnnioNodeStub } };

export const grpcStatus = grpc.status;

/** A client for the daemon on 127.0.0.1:port, closed by `cleanup`. */
export function grpcStub(cleanup: Cleanup, port: number): EnnioNodeStub {
  const c = new pkg.ennio_node.EnnioNode(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  cleanup.add(() => c.close());
  return c;
}

/** One unary call; `authorization` is the whole metadata value ("Bearer …"). */
export function grpcCall(c: EnnioNodeStub, method: string, req: object, authorization?: string): Promise<{ err: GrpcError | null; res: Record<string, unknown> }> {
  const md = new grpc.Metadata();
  if (authorization !== undefined) md.set('authorization', authorization);
  return new Promise((resolve) => {
    const fn = c[method];
    if (!fn) throw new Error(`no method ${method}`);
    fn.call(c, req, md, (err, res) => resolve({ err, res }));
  });
}
