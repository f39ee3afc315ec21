import type { FastifyInstance } from 'fastify';
import { toDestinationResource, type DestinationService } from '@cdr-reports/reports';
import { idParams, json, problems } from '../openapi/schemas';

const tags = ['destinations'];
const DESTINATION_ID = '0b6f7c1e-2d3a-4e5f-8a9b-1c2d3e4f5a6b';
const selfHref = (id: string) => `/v1/destinations/${id}`;

const s3Properties = {
  endpoint: { type: 'string', description: 'http(s) URL of an S3-compatible service; absent: AWS S3' },
  region: { type: 'string', description: 'default us-east-1' },
  bucket: { type: 'string' },
  prefix: { type: 'string', description: "put before every key; default ''" },
  force_path_style: { type: 'boolean', description: 'path-style URLs (MinIO and most S3 clones); default false' },
  access_key_id: { type: 'string' },
  secret_access_key: { type: 'string', description: 'write-only: sealed (AES-256-GCM), never returned' },
} as const;
const sftpProperties = {
  host: { type: 'string' },
  port: { type: 'integer', minimum: 1, maximum: 65535, description: 'default 22' },
  username: { type: 'string' },
  password: { type: 'string', description: 'write-only: sealed, never returned' },
  private_key: { type: 'string', description: 'write-only (PEM or OpenSSH): sealed, never returned' },
  host_key_sha256: { type: 'string', description: 'the server host key fingerprint as `ssh-keygen -lf` prints it (SHA256:...): required, no trust on first use' },
  directory: { type: 'string', description: "folder the files go under; default '.' (the login folder)" },
} as const;
const keyTemplate = {
  type: 'string',
  description:
    'folder of a report\'s files inside the prefix or directory; default "{account_id}/{request_id}/". Placeholders: {account_id}, {request_id}, {product}, {schedule_id}, {period_start:YYYY-MM}, {period_start:YYYY-MM-DD}. A schedule run for the same period and folder replaces the previous run\'s files.',
} as const;

const createSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'type'],
  properties: {
    name: { type: 'string' },
    type: { type: 'string', enum: ['s3', 'sftp'] },
    account_id: { type: 'string', description: "the destination's account: the key's (default) or one below it" },
    s3: { type: 'object', additionalProperties: false, properties: s3Properties },
    sftp: { type: 'object', additionalProperties: false, properties: sftpProperties },
    key_template: keyTemplate,
  },
  examples: [
    {
      name: 'finance bucket',
      type: 's3',
      s3: { region: 'eu-central-1', bucket: 'acme-finance', prefix: 'cdrs/', access_key_id: 'AKIAEXAMPLE', secret_access_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
      key_template: '{account_id}/{period_start:YYYY-MM}/',
    },
    {
      name: 'reconciliation drop',
      type: 'sftp',
      sftp: { host: 'sftp.acme.example', port: 22, username: 'cdr', password: 'correct horse battery staple', host_key_sha256: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s', directory: '/incoming/cdrs' },
    },
  ],
} as const;
const patchSchema = { ...createSchema, required: [], examples: [{ name: 'finance bucket (EU)', s3: { prefix: 'eu/cdrs/' } }] } as const;

const destinationSchema = {
  type: 'object',
  properties: {
    destination_id: { type: 'string', format: 'uuid' },
    account_id: { type: 'string' },
    name: { type: 'string' },
    type: { type: 'string', enum: ['s3', 'sftp'] },
    s3: { type: 'object', description: 'settings without secret_access_key' },
    sftp: { type: 'object', description: 'settings without password or private_key' },
    secrets_set: { type: 'array', items: { type: 'string' }, description: 'which secret fields are stored (never their values)' },
    key_template: { type: 'string' },
    created_at: { type: 'string' },
    updated_at: { type: 'string' },
    _links: { type: 'object' },
  },
  required: ['destination_id', 'name', 'type', '_links'],
} as const;
const destinationExample = {
  destination_id: DESTINATION_ID,
  account_id: 'acme',
  name: 'finance bucket',
  type: 's3',
  s3: { endpoint: 'https://s3.eu-central-1.amazonaws.com', region: 'eu-central-1', bucket: 'acme-finance', prefix: 'cdrs/', force_path_style: false, access_key_id: 'AKIAEXAMPLE' },
  secrets_set: ['secret_access_key'],
  key_template: '{account_id}/{period_start:YYYY-MM}/',
  created_at: '2026-04-01T06:00:00.000Z',
  updated_at: '2026-04-01T06:00:00.000Z',
  _links: { self: { href: selfHref(DESTINATION_ID) }, test: { href: `${selfHref(DESTINATION_ID)}/test` } },
};
const testResultSchema = {
  type: 'object',
  properties: { ok: { type: 'boolean' }, step: { type: 'string', enum: ['connect', 'authenticate', 'write', 'read', 'delete'] }, error: { type: 'string' } },
  required: ['ok'],
} as const;

/** Destinations: the customer's own storage reports are delivered into. Thin over DestinationService. */
export async function destinationsRoutes(app: FastifyInstance, options: { destinations: DestinationService }): Promise<void> {
  const { destinations } = options;

  app.post(
    '/v1/destinations',
    {
      schema: {
        summary: 'Add a destination (an S3-compatible bucket or an SFTP server)',
        description: 'Validated and its address checked (private, loopback, link-local and metadata addresses are refused unless allowed by configuration); secrets are sealed and never returned.',
        tags,
        body: createSchema,
        response: { 201: json('The destination, with its id', destinationSchema, destinationExample), ...problems(400, 401, 403, 415) },
      },
    },
    async (request, reply) => {
    const destination = await destinations.create(request.principal.accountId, request.body);
    return reply.code(201).header('Location', selfHref(destination.id)).send(toDestinationResource(destination));
    },
  );

  app.get<{ Querystring: { limit?: string; cursor?: string } }>(
    '/v1/destinations',
    {
      schema: {
        summary: "The caller's (and descendants') destinations, oldest first",
        tags,
        querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'string' }, cursor: { type: 'string' } } },
        response: { 200: json('A page of destinations', { type: 'object', properties: { items: { type: 'array', items: destinationSchema } }, required: ['items'] }, { items: [destinationExample], _links: { self: { href: '/v1/destinations' } } }), ...problems(400, 401) },
      },
    },
    async (request) => {
    const page = await destinations.list(request.principal.accountId, request.query);
    const links: Record<string, { href: string }> = { self: { href: request.url } };
    if (page.nextCursor) links.next = { href: `/v1/destinations?${new URLSearchParams({ ...request.query, cursor: page.nextCursor }).toString()}` };
    return { items: page.destinations.map(toDestinationResource), _links: links };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/destinations/:id',
    { schema: { summary: 'A destination', tags, params: idParams, response: { 200: json('The destination', destinationSchema, destinationExample), ...problems(401, 404) } } },
    async (request) => toDestinationResource(await destinations.get(request.principal.accountId, request.params.id)),
  );

  app.patch<{ Params: { id: string } }>(
    '/v1/destinations/:id',
    {
      schema: {
        summary: 'Change a destination: only the fields given change (secrets need not be sent again)',
        tags,
        params: idParams,
        body: patchSchema,
        response: { 200: json('The destination as changed', destinationSchema, destinationExample), ...problems(400, 401, 404, 415) },
      },
    },
    async (request) => toDestinationResource(await destinations.update(request.principal.accountId, request.params.id, request.body ?? {})),
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/destinations/:id',
    { schema: { summary: 'Delete a destination (refused while a schedule uses it)', tags, params: idParams, response: { 204: { description: 'Deleted', type: 'null' }, ...problems(401, 404, 409) } } },
    async (request, reply) => {
    await destinations.delete(request.principal.accountId, request.params.id);
    return reply.code(204).send();
    },
  );

  app.post<{ Params: { id: string } }>(
    '/v1/destinations/:id/test',
    {
      schema: {
        summary: 'Write, read back and delete a small probe object; names the step that failed',
        tags,
        params: idParams,
        response: { 200: json('The outcome', testResultSchema, { ok: false, step: 'authenticate', error: 'InvalidAccessKeyId: the access key id does not exist' }), ...problems(401, 404) },
      },
    },
    async (request) => destinations.test(request.principal.accountId, request.params.id),
  );
}
