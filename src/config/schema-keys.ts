/**
 * Reads the allowed keys at a key path straight from the zod object shapes, so the
 * did-you-mean hint for an unknown key can never drift from the schema itself.
 */
import { z } from 'zod';
import type { KeyPath } from './yaml-locate.js';

type Schema = z.core.$ZodType;

/** Strip optional/default/prefault/nullable/pipe wrappers down to the structural schema. */
function unwrap(schema: Schema): Schema {
  let s = schema;
  for (let i = 0; i < 20; i++) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault || s instanceof z.ZodPrefault) {
      s = s.unwrap();
    } else if (s instanceof z.ZodPipe) {
      // The input side is what the user writes, except for a preprocess (a transform
      // feeding the real schema), whose structure is on the output side.
      s = s.in instanceof z.ZodTransform ? s.out : s.in;
    } else {
      return s;
    }
  }
  return s;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The object options of a union that match `data`: for a discriminated union, the option
 * whose literal discriminator equals data[discriminator]; otherwise every object option.
 */
function unionObjects(schema: z.ZodUnion, data: unknown): z.ZodObject[] {
  const objects = schema.options.map(unwrap).filter((o): o is z.ZodObject => o instanceof z.ZodObject);
  if (schema instanceof z.ZodDiscriminatedUnion && isRecord(data)) {
    const disc = schema.def.discriminator;
    const value = data[disc];
    const hit = objects.filter((o) => {
      const lit = o.shape[disc];
      return lit instanceof z.ZodLiteral && lit.values.has(value as z.core.util.Literal);
    });
    if (hit.length > 0) return hit;
  }
  return objects;
}

function objectsAt(schema: Schema, data: unknown): z.ZodObject[] {
  const s = unwrap(schema);
  if (s instanceof z.ZodObject) return [s];
  if (s instanceof z.ZodUnion) return unionObjects(s, data);
  return [];
}

/** Keys the schema allows for the object found at `path` in `data` (empty when not an object). */
export function allowedKeysAt(root: Schema, path: KeyPath, data: unknown): string[] {
  let schemas: Schema[] = [root];
  let value = data;
  for (const seg of path) {
    const next: Schema[] = [];
    for (const s of schemas) {
      const u = unwrap(s);
      if (u instanceof z.ZodArray && typeof seg === 'number') next.push(u.element);
      for (const o of objectsAt(u, value)) {
        const child = o.shape[String(seg)];
        if (child) next.push(child);
      }
    }
    schemas = next;
    value = Array.isArray(value) && typeof seg === 'number' ? value[seg] : isRecord(value) ? value[String(seg)] : undefined;
  }
  const keys = new Set<string>();
  for (const s of schemas) for (const o of objectsAt(s, value)) for (const k of Object.keys(o.shape)) keys.add(k);
  return [...keys];
}
