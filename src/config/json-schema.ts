/**
 * JSON Schema of ennio.yaml for editors (yaml-language-server: `# yaml-language-server:
 * $schema=…`), generated from the one zod schema so it cannot drift. The input side is
 * used: it describes what a user may write (e.g. durations as "30s"), not the parsed result.
 */
import { z } from 'zod';
import { config } from './schema.js';

export const JSON_SCHEMA_DRAFT = 'https://json-schema.org/draft/2020-12/schema';

export function configJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(config, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    $schema: JSON_SCHEMA_DRAFT,
    title: 'ennio.yaml',
    description: 'Configuration of Ennio, the orchestrator of AI coding agents in tmux sessions (local or over SSH).',
    ...Object.fromEntries(Object.entries(generated).filter(([k]) => k !== '$schema')),
  };
}
