/**
 * The JSON Schemas of the HTTP API: Fastify validates requests with them and @fastify/swagger publishes them
 * (OpenAPI 3.1 at /openapi.json, Swagger UI at /docs). Enumerations come from the domain's own lists, so
 * the document cannot drift from what the code accepts. The schemas check the shape of a request (types,
 * enumerations, unknown fields); the domain then checks what only it can (date order, retention, statuses
 * per product, account hierarchy), with the same problem document.
 */
import {
  COMPRESSIONS,
  FORMATS,
  DIRECTIONS,
  MAX_REPORT_ACCOUNT_IDS,
  PRODUCTS,
  REPORT_STATUSES,
  RFC3339_PATTERN,
  SCHEDULE_PERIODS,
  USAGE_DIMENSIONS,
  USAGE_METRICS,
} from '@cdr-reports/domain';

const REPORT_ID = '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f';
const SCHEDULE_ID = '1b2c3d4e-5f60-4718-9a2b-3c4d5e6f7a8b';
const timestamp = { type: 'string', pattern: RFC3339_PATTERN.source, description: 'RFC 3339 with an offset' } as const;
const link = { type: 'object', properties: { href: { type: 'string' } }, required: ['href'] } as const;
const stringOrList = { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] } as const;

/**
 * The body limit of a report request or a schedule (other bodies: 64 KiB). Such a body may list up to
 * MAX_REPORT_ACCOUNT_IDS account ids, of up to 64 characters each: about 1.4 MB of JSON.
 */
export const REPORT_BODY_LIMIT = 2 * 1024 * 1024;

export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  description: 'RFC 9457 problem details (application/problem+json)',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    invalid_params: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, reason: { type: 'string' } }, required: ['name', 'reason'] } },
  },
  required: ['type', 'title', 'status', 'detail'],
} as const;

const PROBLEMS: Record<number, { title: string; slug: string; detail: string; description: string }> = {
  400: { title: 'Invalid request', slug: 'validation', detail: 'product: is required', description: 'The request is invalid: every bad field is named in invalid_params' },
  401: { title: 'Unauthorized', slug: 'unauthorized', detail: 'a valid API key is required: Authorization: Bearer <key>', description: 'No valid API key (WWW-Authenticate: Bearer)' },
  403: { title: 'Forbidden', slug: 'forbidden', detail: 'this API key cannot request reports for account globex', description: 'The key may not act for that account' },
  404: { title: 'Not found', slug: 'not-found', detail: `report ${REPORT_ID} not found`, description: 'No such resource, or one the key cannot see' },
  409: { title: 'Conflict', slug: 'conflict', detail: `report ${REPORT_ID} is PROCESSING: the file is not ready yet`, description: 'Not possible in the resource’s current state' },
  410: { title: 'Gone', slug: 'gone', detail: `report ${REPORT_ID} is EXPIRED: its file no longer exists`, description: 'Expired or aborted: the file is gone' },
  413: { title: 'Payload too large', slug: 'payload-too-large', detail: 'Request body is too large', description: 'The body is over its limit: 2 MiB for a report request or a schedule, 64 KiB otherwise' },
  415: { title: 'Unsupported media type', slug: 'unsupported-media-type', detail: 'Unsupported Media Type: text/plain', description: 'The body is not application/json' },
  429: { title: 'Too many requests', slug: 'rate-limited', detail: 'this API key is over its limit of 5 requests per second for POST /v1/reports; retry in 1 second', description: 'The key is over its rate limit: wait Retry-After seconds' },
  422: { title: 'Idempotency-Key reused', slug: 'idempotency-key-reused', detail: 'this Idempotency-Key was used with a different request body in the last 24 hours', description: 'The Idempotency-Key came with another body' },
};

/** Error responses, each a problem document with its example. */
export function problems(...statuses: number[]): Record<string, unknown> {
  return Object.fromEntries(
    statuses.map((status) => {
      const p = PROBLEMS[status]!;
      const example = { type: `https://cdr-reports.dev/problems/${p.slug}`, title: p.title, status, detail: p.detail, ...(status === 400 && { invalid_params: [{ name: 'product', reason: 'is required: one of VOICE-CALL, SMS, MESSAGES' }] }) };
      // allOf keeps the example beside the reference (a bare $ref drops its siblings).
      return [String(status), { description: p.description, content: { 'application/problem+json': { schema: { allOf: [{ $ref: 'Problem#' }], examples: [example] } } } }];
    }),
  );
}

export function json(description: string, schema: Record<string, unknown>, example: unknown): Record<string, unknown> {
  return { description, content: { 'application/json': { schema: { ...schema, examples: [example] } } } };
}

const filterProperties = {
  product: { type: 'string', enum: [...PRODUCTS] },
  account_id: { type: 'string', description: "the key's account (default) or a descendant; with account_ids, the report's owner" },
  account_ids: {
    type: 'array',
    items: { type: 'string' },
    description: `instead of account_id's tree: exactly these accounts (1 to ${MAX_REPORT_ACCOUNT_IDS}, each the key's account or below it, unique; unknown or foreign ids: 403 naming them); not with include_subaccounts: true. Records and usage take it comma-separated`,
  },
  include_subaccounts: { type: 'boolean' },
  date_start: timestamp,
  date_end: timestamp,
  direction: { type: 'string', enum: [...DIRECTIONS] },
  status: { ...stringOrList, description: 'one status or a list, valid for the product' },
  from: { type: 'string', description: 'exact, or a prefix ending with *' },
  to: { type: 'string', description: 'exact, or a prefix ending with *' },
  country: { type: 'string' },
  network: { type: 'string' },
  hangup_cause: { type: 'string' },
  client_ref: { type: 'string' },
  min_duration: { type: 'integer', minimum: 0 },
  timezone: { type: 'string', description: 'IANA time zone, default UTC' },
} as const;

export const reportRequestExample = {
  product: 'VOICE-CALL',
  include_subaccounts: true,
  date_start: '2026-03-01T00:00:00+01:00',
  date_end: '2026-04-01T00:00:00+02:00',
  timezone: 'Europe/Paris',
  status: ['answered', 'busy'],
  callback_url: 'https://billing.example.com/cdr-ready',
};

export const reportRequestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['product', 'date_start', 'date_end'],
  properties: {
    type: { type: 'string', enum: ['records', 'usage'], description: 'records (default) or usage totals' },
    ...filterProperties,
    fields: { type: 'array', items: { type: 'string' }, description: 'columns to write, in order' },
    include_message: { type: 'boolean' },
    dimensions: { type: 'array', items: { type: 'string', enum: [...USAGE_DIMENSIONS] }, description: 'usage reports: what rows are grouped by' },
    metrics: { type: 'array', items: { type: 'string', enum: [...USAGE_METRICS] }, description: 'usage reports: what is computed per group' },
    format: { type: 'string', enum: [...FORMATS], description: 'csv (default, .csv.gz), jsonl (.jsonl.gz: one JSON object per record) or parquet (.parquet: typed columns, zstd inside)' },
    compression: { type: 'string', enum: [...COMPRESSIONS], description: 'csv and jsonl: gzip (default) or zip; not with parquet' },
    callback_url: { type: 'string', description: 'http(s) URL called when the report finishes or fails' },
    destination_id: { type: 'string', format: 'uuid', description: 'deliver the files and manifest into this destination (POST /v1/destinations) too' },
    max_file_rows: { type: 'integer', minimum: 1, description: 'split into files of at most this many rows, each with its header' },
    max_file_bytes: { type: 'integer', minimum: 1048576, description: 'split into files of at most this many compressed bytes (>= 1 MiB)' },
  },
  examples: [reportRequestExample],
} as const;

export const reportExample = {
  request_id: REPORT_ID,
  request_status: 'SUCCESS',
  ...reportRequestExample,
  account_id: 'acme',
  fields: ['id', 'start_time', 'from', 'to', 'duration', 'status', 'currency', 'total_price'],
  include_message: false,
  compression: 'gzip',
  receive_time: '2026-04-01T06:00:00.000Z',
  start_time: '2026-04-01T06:00:01.000Z',
  end_time: '2026-04-01T06:00:40.000Z',
  items_count: 1204332,
  summary: { records: 1204332, duration_seconds: 73520012, billsec_seconds: 70011230, total_price: { EUR: '18023.55120000' }, status: { answered: 1033015, busy: 171317 } },
  file: { name: `VOICE-CALL_${REPORT_ID}.csv.gz`, size_bytes: 48200311, content_type: 'application/gzip' },
  files: [{ name: `VOICE-CALL_${REPORT_ID}.csv.gz`, rows: 1204332, size_bytes: 48200311, sha256: '9f2c4e1b7a0d3c5e8f6a2b1d4c7e9f0a3b5d8e1f2a4c6e8b0d2f4a6c8e0b2d4f', content_type: 'application/gzip' }],
  expires_at: '2026-04-04T06:00:40.000Z',
  _links: {
    self: { href: `/v1/reports/${REPORT_ID}` },
    download_report: { href: 'https://s3.example.com/reports/acme/...&X-Amz-Signature=...' },
    manifest: { href: `/v1/reports/${REPORT_ID}/manifest` },
    files: { href: `/v1/reports/${REPORT_ID}/files` },
  },
};

export const reportSchema = {
  type: 'object',
  properties: {
    request_id: { type: 'string', format: 'uuid' },
    request_status: { type: 'string', enum: [...REPORT_STATUSES] },
    schedule_id: { type: 'string', format: 'uuid' },
    items_count: { type: ['integer', 'null'] },
    progress: { type: 'object', properties: { items_processed: { type: 'integer' }, percent: { type: 'number' } } },
    summary: { type: ['object', 'null'] },
    file: { type: ['object', 'null'], description: 'the one file of a report not split (null when split: see files)' },
    files: {
      type: 'array',
      description: 'every file, in order; download file n (1-based) at /v1/reports/{id}/files/{n}/download',
      items: {
        type: 'object',
        properties: { name: { type: 'string' }, rows: { type: 'integer' }, size_bytes: { type: 'integer' }, sha256: { type: 'string' }, content_type: { type: 'string' } },
        required: ['name', 'rows', 'size_bytes', 'sha256', 'content_type'],
      },
    },
    delivery: {
      type: 'object',
      description: 'a report with destination_id: its delivery into the destination',
      properties: {
        destination_id: { type: 'string', format: 'uuid' },
        state: { type: 'string', enum: ['PENDING', 'DELIVERED', 'FAILED'] },
        delivered_at: { type: ['string', 'null'] },
        manifest_key: { type: ['string', 'null'], description: 'where the manifest was written in the destination' },
        file_keys: { type: ['array', 'null'], items: { type: 'string' } },
        error: { type: ['object', 'null'], properties: { step: { type: 'string', enum: ['connect', 'authenticate', 'write', 'read', 'delete'] }, message: { type: 'string' } } },
      },
    },
    error: { type: ['object', 'null'], properties: { code: { type: 'string' }, message: { type: 'string' } } },
    expires_at: { type: ['string', 'null'] },
    _links: { type: 'object', properties: { self: link, download_report: link, manifest: link, files: link }, required: ['self'] },
  },
  required: ['request_id', 'request_status', '_links'],
  additionalProperties: true,
} as const;

export const idParams = { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } as const;

export const scheduleExample = {
  id: SCHEDULE_ID,
  name: 'Monthly voice',
  account_id: 'acme',
  cron: '0 2 1 * *',
  timezone: 'Europe/Paris',
  period: 'previous_month',
  report: { product: 'VOICE-CALL', account_id: 'acme', include_subaccounts: true, fields: ['id', 'start_time', 'to', 'duration'], include_message: false, timezone: 'UTC', compression: 'gzip' },
  callback_url: 'https://billing.example.com/cdr-ready',
  paused: false,
  created_at: '2026-03-15T10:00:00.000Z',
  updated_at: '2026-03-15T10:00:00.000Z',
  _links: { self: { href: `/v1/schedules/${SCHEDULE_ID}` }, runs: { href: `/v1/schedules/${SCHEDULE_ID}/runs` } },
};

export const scheduleSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    cron: { type: 'string' },
    timezone: { type: 'string' },
    period: { type: 'string', enum: [...SCHEDULE_PERIODS] },
    report: { type: 'object' },
    callback_url: { type: ['string', 'null'] },
    paused: { type: 'boolean' },
  },
  required: ['id', 'name', 'cron', 'timezone', 'period', 'report', 'paused'],
  additionalProperties: true,
} as const;

const scheduleFields = {
  name: { type: 'string', minLength: 1, maxLength: 200 },
  cron: { type: 'string', description: 'cron pattern in the time zone, default 0 2 1 * *' },
  timezone: { type: 'string', description: 'IANA time zone, default UTC' },
  // Its values are checked with the cron and the report, so that one answer names every bad field.
  period: { type: 'string', description: `one of ${SCHEDULE_PERIODS.join(', ')} (default previous_month)` },
  report: { type: 'object', description: 'a report request without date_start and date_end' },
  callback_url: { type: ['string', 'null'] },
  paused: { type: 'boolean' },
} as const;

export const scheduleCreateSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'report'],
  properties: scheduleFields,
  examples: [{ name: 'Monthly voice', timezone: 'Europe/Paris', report: { product: 'VOICE-CALL', include_subaccounts: true }, callback_url: 'https://billing.example.com/cdr-ready' }],
} as const;

export const schedulePatchSchema = {
  type: 'object',
  additionalProperties: false,
  properties: scheduleFields,
  examples: [{ paused: true }],
} as const;

export const runNowSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['period_start'],
  properties: { period_start: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'a date in the period to report on' } },
  examples: [{ period_start: '2026-03-01' }],
} as const;

const queryString = (names: readonly string[]) => ({
  type: 'object',
  properties: Object.fromEntries(names.map((name) => [name, stringOrList])),
  additionalProperties: true,
});

export const recordsQuery = queryString([...Object.keys(filterProperties), 'fields', 'include_message', 'limit', 'cursor', 'id']);
export const usageQuery = queryString([...Object.keys(filterProperties), 'dimensions', 'metrics', 'format', 'page[number]', 'page[size]']);
export const listReportsQuery = queryString(['status', 'created_after', 'created_before', 'limit', 'cursor']);
export const listAccountsQuery = queryString(['limit', 'cursor', 'parent_id']);

export const recordsExample = {
  request_status: 'TRUNCATED',
  items_count: 1,
  records: [{ id: '0b6a2f1e-0c1d-4e2f-8a3b-4c5d6e7f8091', start_time: '2026-03-01T00:00:04+01:00', to: '+447700900123', duration: 63, total_price: '0.0125', currency: 'EUR' }],
  cursor: 'cjF8MjAyNi0wMi0yOFQyMzowMDowNC4wMDAwMDBafDBiNmEy',
  _links: { self: { href: '/v1/records?product=VOICE-CALL&...' }, next: { href: '/v1/records?product=VOICE-CALL&...&cursor=...' } },
};

export const usageExample = {
  data: [{ day: '2026-03-01', status: 'answered', currency: 'EUR', count: 812, billsec: 40120, total_price: '91.35000000' }],
  meta: { page_number: 1, page_size: 20, total_pages: 13, total_results: 245 },
  _links: { self: { href: '/v1/usage?...' }, next: { href: '/v1/usage?...&page[number]=2' } },
};

export const filesSchema = {
  type: 'object',
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        properties: { n: { type: 'integer' }, name: { type: 'string' }, rows: { type: 'integer' }, size_bytes: { type: 'integer' }, sha256: { type: 'string' }, content_type: { type: 'string' }, _links: { type: 'object' } },
        required: ['n', 'name', 'rows', 'size_bytes', 'sha256', 'content_type', '_links'],
      },
    },
  },
  required: ['items'],
} as const;

export const filesExample = {
  items: [1, 2].map((n) => ({
    n,
    name: `VOICE-CALL_${REPORT_ID}_part0000${n}.csv.gz`,
    rows: n === 1 ? 1000000 : 204332,
    size_bytes: n === 1 ? 40021330 : 8178981,
    sha256: '9f2c4e1b7a0d3c5e8f6a2b1d4c7e9f0a3b5d8e1f2a4c6e8b0d2f4a6c8e0b2d4f',
    content_type: 'application/gzip',
    _links: { download: { href: `/v1/reports/${REPORT_ID}/files/${n}/download` } },
  })),
  _links: { self: { href: `/v1/reports/${REPORT_ID}/files` }, manifest: { href: `/v1/reports/${REPORT_ID}/manifest` } },
};

export const manifestSchema = {
  type: 'object',
  properties: {
    manifest_version: { type: 'integer', enum: [1] },
    report_id: { type: 'string', format: 'uuid' },
    account_id: { type: 'string' },
    created_at: { type: 'string' },
    request: { type: 'object' },
    format: { type: 'string' },
    compression: { type: 'string' },
    columns: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          type: { type: 'string', enum: ['string', 'integer', 'decimal', 'timestamp', 'date'] },
          nullable: { type: 'boolean', description: 'Whether the column may hold NULL (an empty field in CSV, null in JSON Lines and Parquet)' },
          parquet: {
            type: 'object',
            description:
              'Parquet reports only: the Parquet types of the column (logical null for a plain INT32/INT64; every column is OPTIONAL in the file, nullable says which may hold NULL)',
            properties: {
              physical: { type: 'string', enum: ['BYTE_ARRAY', 'INT32', 'INT64', 'FIXED_LEN_BYTE_ARRAY'] },
              length: { type: 'integer', description: 'Bytes of a FIXED_LEN_BYTE_ARRAY value' },
              logical: { type: ['string', 'null'], examples: ['STRING', 'TIMESTAMP(MICROS,true)', 'DATE', 'DECIMAL(20,8)'] },
              repetition: { type: 'string', enum: ['OPTIONAL'] },
            },
            required: ['physical', 'logical', 'repetition'],
          },
        },
      },
    },
    files: {
      type: 'array',
      items: { type: 'object', properties: { key: { type: 'string' }, rows: { type: 'integer' }, size_bytes: { type: 'integer' }, sha256: { type: 'string' } }, required: ['key', 'rows', 'size_bytes', 'sha256'] },
    },
    rows: { type: 'integer' },
    summary: { type: 'object' },
  },
  required: ['manifest_version', 'report_id', 'account_id', 'created_at', 'request', 'format', 'compression', 'columns', 'files', 'rows', 'summary'],
} as const;

export const manifestExample = {
  manifest_version: 1,
  report_id: REPORT_ID,
  account_id: 'acme',
  created_at: '2026-04-01T06:00:40.000Z',
  request: { product: 'VOICE-CALL', account_id: 'acme', date_start: '2026-03-01T00:00:00Z', date_end: '2026-04-01T00:00:00Z', max_file_rows: 1000000 },
  format: 'csv',
  compression: 'gzip',
  columns: [{ name: 'id', type: 'string' }, { name: 'start_time', type: 'timestamp' }, { name: 'duration', type: 'integer' }, { name: 'total_price', type: 'decimal' }],
  files: filesExample.items.map((file) => ({ key: `reports/acme/${REPORT_ID}/${file.name}`, rows: file.rows, size_bytes: file.size_bytes, sha256: file.sha256 })),
  rows: 1204332,
  summary: { records: 1204332, duration_seconds: 73520012, billsec_seconds: 70011230, total_price: { EUR: '18023.55120000' }, status: { answered: 1033015, busy: 171317 } },
};
