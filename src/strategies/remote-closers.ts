/**
 * What must be closed before a process can exit, registered by the module that opens it
 * when that module loads (the ennio-node clients). Closing then never loads a module just
 * to find it has nothing open: importing the node strategy costs Connect and protobuf,
 * ~100–300 ms a tmux-only command has no use for.
 */
const closers = new Set<() => Promise<void>>();

export function registerRemoteCloser(close: () => Promise<void>): void {
  closers.add(close);
}

export async function runRemoteClosers(): Promise<void> {
  await Promise.all([...closers].map((close) => close()));
}
