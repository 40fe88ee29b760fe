import { describe, expect, it } from 'vitest';
import { configJsonSchema } from '../src/config/json-schema.js';

describe('configJsonSchema', () => {
  it('describes the input side of the schema with $schema and title', () => {
    const schema = configJsonSchema();
    expect(schema['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema['title']).toBe('ennio.yaml');
    const text = JSON.stringify(schema);
    const props = schema['properties'] as Record<string, unknown>;
    expect(Object.keys(props).sort()).toEqual(['activity', 'api_token', 'defaults', 'notifications', 'notify', 'port', 'projects', 'server']);
    for (const key of ['ssh_config', 'host_key_policy', 'node_config', 'auth_token', 'passphrase', 'accept_new']) {
      expect(text).toContain(key);
    }
    // Durations are written as strings like "30s" (input side), not as parsed numbers only.
    expect(text).toContain('ms|s|m|h');
    // Projects require name and path, and unknown keys are rejected (as the loader does).
    const project = (props['projects'] as { items: { required: string[]; additionalProperties: unknown } }).items;
    expect(project.required).toEqual(expect.arrayContaining(['name', 'path']));
    expect(project.additionalProperties).toBe(false);
  });
});
