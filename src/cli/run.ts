/** Runs a command body with a context and always releases it (SSH connections, DB). */
import { createContext, type Context, type GlobalOptions } from './context.js';

export async function withContext(globals: GlobalOptions, body: (ctx: Context, g: GlobalOptions) => Promise<void>): Promise<void> {
  const ctx = createContext(globals);
  try {
    await body(ctx, globals);
  } finally {
    await ctx.close();
  }
}
