/** The OpenAPI 3.1 document of the HTTP API, derived from the route table's zod schemas. */
import { z } from 'zod';
import { VERSION } from '../core/version.js';
import { ROUTES } from '../server/routes.js';
import { errorSchema, eventSchema } from './schemas.js';

const json = (schema: z.ZodType): Record<string, unknown> => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const errorResponse = { description: 'Error with a stable code', content: { 'application/json': { schema: json(errorSchema) } } };
  for (const r of ROUTES) {
    const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const query = Object.entries(r.query ?? {}).map(([name, schema]) => ({ name, in: 'query', required: false, schema: json(schema) }));
    (paths[r.path] ??= {})[r.method.toLowerCase()] = {
      summary: r.summary,
      ...(params.length + query.length ? { parameters: [...params, ...query] } : {}),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: json(r.body) } } } } : {}),
      responses: { '200': { description: 'OK', content: { 'application/json': { schema: json(r.response) } } }, default: errorResponse },
    };
  }
  paths['/api/v1/events'] = {
    get: {
      summary: 'Session events as Server-Sent Events; resumable with Last-Event-ID or ?after=N. feed=1 adds the live feed of the dashboard (sessions snapshot, session/removed/preview/hosts messages)',
      parameters: [
        { name: 'after', in: 'query', required: false, schema: { type: 'integer' } },
        { name: 'feed', in: 'query', required: false, schema: { type: 'string', enum: ['1'] } },
      ],
      responses: { '200': { description: 'text/event-stream of events', content: { 'text/event-stream': { schema: json(eventSchema) } } } },
    },
  };
  paths['/api/v1/sessions/{id}/terminal'] = {
    get: {
      summary: "WebSocket: the session's terminal. Server → client: binary terminal bytes; JSON {type:size|end|error}. Client → server: JSON {type:keys|paste, data} or {type:resize, cols, rows}",
      parameters: [
        { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
        { name: 'cols', in: 'query', required: false, schema: { type: 'integer' } },
        { name: 'rows', in: 'query', required: false, schema: { type: 'integer' } },
      ],
      responses: { '101': { description: 'Switching Protocols (WebSocket)' }, default: errorResponse },
    },
  };
  return {
    openapi: '3.1.0',
    info: { title: 'Ennio API', version: VERSION, description: 'Served on $ENNIO_HOME/ennio.sock (0600) and on TCP `port` with a bearer token.' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths,
  };
}
