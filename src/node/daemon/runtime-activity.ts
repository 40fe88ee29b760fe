/**
 * The activity half of ListRuntimes (extension): for each runtime the orchestrator asks
 * about, the new lines of its agent's hook state file and — when the probe's rule says the
 * screen is worth reading — its visible screen. Read here, on the daemon's own host, with
 * the code the orchestrator uses for its local sessions (src/activity/local-state.ts) and
 * the probe's own rule and capture (src/activity/probe.ts); the lines are parsed by the
 * orchestrator, as every other state file is. So a node host costs the orchestrator its
 * one ListRuntimes call per sweep and no SSH command: the window activity comes from the
 * `list-panes` the call runs anyway, a file is read without a process, and a screen goes
 * through the tmux control client.
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { ActivityRequest, RuntimeActivitySchema } from '../gen/ennio_node_pb.js';
import { isStateFilePath } from '../../activity/hook-script.js';
import { readLocalLines } from '../../activity/local-state.js';
import { screenArgv, wantsScreen } from '../../activity/probe.js';
import type { Host } from '../../host/host.js';
import type { PaneState, TmuxServer } from '../../ops/tmux.js';

export type RuntimeActivityInit = MessageInitShape<typeof RuntimeActivitySchema>;

/** The activity asked for runtime `name` (its tmux session on `server`; `pane` from list-panes). */
export async function readRuntimeActivity(host: Host, server: TmuxServer, name: string, ask: ActivityRequest, pane: PaneState | undefined, nowMs: number): Promise<RuntimeActivityInit> {
  const out: RuntimeActivityInit = { lines: '', fromOffset: ask.offset };
  if (!isStateFilePath(ask.stateFile, name)) {
    // Only ever a session's own state file: the call must not read any file it is given.
    out.error = `${JSON.stringify(ask.stateFile)} is not a state file of ${name} (…/activity/${name}.events)`;
  } else {
    try {
      const { text, from } = readLocalLines(ask.stateFile, Number(ask.offset));
      out.lines = text;
      out.fromOffset = BigInt(from);
    } catch (err) {
      out.error = err instanceof Error ? err.message : String(err);
    }
  }
  const windowS = pane?.activityAt === undefined ? undefined : Math.floor(pane.activityAt / 1000);
  const capture = { unlessMark: ask.captureUnlessMark, minQuietS: ask.captureMinQuietSecs };
  if (pane && !pane.dead && wantsScreen(capture, windowS, nowMs)) {
    // A session gone between list-panes and now has no screen; its status says the rest.
    const res = await host.exec(screenArgv(server, name)).catch(() => undefined);
    if (res?.code === 0) out.screen = res.stdout;
  }
  return out;
}
