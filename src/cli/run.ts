/** Runs a command body with a context and always releases it (SSH connections, DB). */
import { silentSink, withProgressSink } from '../core/progress.js';
import { createContext, type Context, type GlobalOptions } from './context.js';

export async function withContext(globals: GlobalOptions, body: (ctx: Context, g: GlobalOptions) => Promise<void>): Promise<void> {
  const run = async (): Promise<void> => {
    const ctx = createContext(globals);
    try {
      await body(ctx, globals);
    } finally {
      await ctx.close();
    }
  };
  // --json output is for programs: no "waiting for…" lines, not even on stderr.
  return globals.json ? withProgressSink(silentSink, run) : run();
}
