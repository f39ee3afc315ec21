import Ajv2020 from 'ajv/dist/2020';
import { registeredRoutes } from '@cdr-reports/api';
import { useReportCluster } from '@cdr-reports/testing';

type Operation = {
  summary?: string;
  requestBody?: { content: Record<string, { schema: Record<string, unknown>; example?: unknown; examples?: Record<string, { value: unknown }> }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: Record<string, unknown> }> }>;
};

/**
 * The OpenAPI document is generated from the route schemas: every route the API serves is in it, every
 * operation documents its errors, and every example in it validates against its own schema.
 */
describe('the OpenAPI document', () => {
  const cluster = useReportCluster({ worker: false });
  let doc: { openapi: string; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };

  beforeAll(async () => {
    const response = await cluster.api.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    doc = response.json();
  }, 60_000);

  // The document itself and Swagger UI's assets are not API operations.
  const undocumented = (url: string) => url === '/openapi.json' || url.startsWith('/docs') || url.startsWith('/admin/queues');
  const openApiPath = (url: string) => url.replace(/:([A-Za-z_]+)/g, '{$1}');

  it('is OpenAPI 3.1 and holds every route the API serves', () => {
    expect(doc.openapi).toBe('3.1.0');
    const routes = registeredRoutes(cluster.api.app).filter((route) => !undocumented(route.url));
    expect(routes.length).toBeGreaterThan(20);
    const missing = routes.filter((route) => !doc.paths[openApiPath(route.url)]?.[route.method.toLowerCase()]);
    expect(missing).toEqual([]);
  });

  it('documents the errors of every /v1 operation as problem documents, 401 included', () => {
    for (const [path, operations] of Object.entries(doc.paths)) {
      if (!path.startsWith('/v1')) continue;
      for (const [method, operation] of Object.entries(operations)) {
        expect({ path, method, summary: typeof operation.summary }).toEqual({ path, method, summary: 'string' });
        expect({ path, method, has401: '401' in operation.responses }).toEqual({ path, method, has401: true });
        for (const [status, response] of Object.entries(operation.responses)) {
          if (Number(status) >= 400) expect({ path, method, status, types: Object.keys(response.content ?? {}) }).toEqual({ path, method, status, types: ['application/problem+json'] });
        }
      }
    }
  });

  it('has an example for every request body and response with content, and each validates against its schema', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    ajv.addSchema({ $id: 'components', $defs: doc.components.schemas });
    const resolveRefs = (schema: unknown): unknown => {
      // Component references, rewritten to the schema registered above.
      return JSON.parse(JSON.stringify(schema).replace(/"#\/components\/schemas\/([^"]+)"/g, '"components#/$defs/$1"'));
    };
    let checked = 0;
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const contents = [
          ...Object.entries(operation.requestBody?.content ?? {}).map(([type, c]) => ['request', type, c] as const),
          ...Object.entries(operation.responses).flatMap(([status, r]) => Object.entries(r.content ?? {}).map(([type, c]) => [status, type, c] as const)),
        ];
        for (const [where, type, content] of contents) {
          const schema = resolveRefs(content.schema) as { examples?: unknown[] };
          // In the schema (JSON Schema's examples) or, for request bodies, on the media type (OpenAPI's).
          const media = content as { example?: unknown; examples?: Record<string, { value: unknown }> };
          const examples = [...(schema.examples ?? []), ...Object.values(media.examples ?? {}).map((e) => e.value), ...(media.example === undefined ? [] : [media.example])];
          expect({ path, method, where, type, examples: examples.length > 0 }).toEqual({ path, method, where, type, examples: true });
          const validate = ajv.compile(schema);
          for (const example of examples) {
            const valid = validate(example);
            expect({ path, method, where, errors: valid ? null : validate.errors }).toEqual({ path, method, where, errors: null });
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(40);
  });

  it('the same schema that documents a request validates it', async () => {
    const key = await cluster.account('acme');
    const response = await cluster.request('POST', '/v1/reports', key, { product: 'FAX', date_start: 'yesterday', colour: 'blue' });
    expect(response.status).toBe(400);
    expect(response.body.invalid_params).toEqual(
      expect.arrayContaining([
        { name: 'product', reason: 'must be one of VOICE-CALL, SMS, MESSAGES' },
        { name: 'date_start', reason: 'must be an RFC 3339 timestamp with an offset, like 2026-03-01T00:00:00Z' },
        { name: 'date_end', reason: 'is required' },
        { name: 'colour', reason: 'unknown field' },
      ]),
    );
    const body = doc.paths['/v1/reports']!.post!.requestBody!.content['application/json']!.schema as { properties: Record<string, { enum?: string[] }> };
    expect(body.properties.product!.enum).toEqual(['VOICE-CALL', 'SMS', 'MESSAGES']);
  });

  it('serves Swagger UI at /docs', async () => {
    const response = await cluster.api.app.inject({ method: 'GET', url: '/docs/' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toMatch(/swagger/i);
  });
});
