/**
 * A destination: the customer's own storage a report is delivered into (an S3-compatible bucket or an SFTP
 * server). Validation as a pure function, every problem named by field, like the report request's.
 */
import { ValidationError, type InvalidParam } from './errors';

export const DESTINATION_TYPES = ['s3', 'sftp'] as const;
export type DestinationType = (typeof DESTINATION_TYPES)[number];

export interface S3Settings {
  /** http(s) URL of an S3-compatible service; absent: AWS S3 in `region`. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Put before every key; '' or ending with '/'. */
  prefix: string;
  force_path_style: boolean;
  access_key_id: string;
  secret_access_key: string;
}

export interface SftpSettings {
  host: string;
  port: number;
  username: string;
  password?: string;
  private_key?: string;
  /** The server's host key fingerprint, OpenSSH style: SHA256:<base64>. No trust on first use. */
  host_key_sha256: string;
  /** Absolute folder the files go under. */
  directory: string;
}

/** The connection settings of a destination, secrets included. */
export type DestinationSettings = { type: 's3'; s3: S3Settings } | { type: 'sftp'; sftp: SftpSettings };

/** What POST /v1/destinations takes (and PATCH, merged with what is stored). */
export type DestinationInput = DestinationSettings & {
  name: string;
  /** Where a report's files go inside the destination; see renderKeyTemplate. */
  key_template: string;
};

/** Fields never returned, never logged, stored sealed. */
export const DESTINATION_SECRET_FIELDS = ['secret_access_key', 'password', 'private_key'] as const;

export const DEFAULT_KEY_TEMPLATE = '{account_id}/{request_id}/';
const PLACEHOLDERS = ['account_id', 'request_id', 'product', 'schedule_id', 'period_start:YYYY-MM', 'period_start:YYYY-MM-DD'];

const TOP_FIELDS = new Set(['name', 'type', 's3', 'sftp', 'key_template']);
const S3_FIELDS = new Set(['endpoint', 'region', 'bucket', 'prefix', 'force_path_style', 'access_key_id', 'secret_access_key']);
const SFTP_FIELDS = new Set(['host', 'port', 'username', 'password', 'private_key', 'host_key_sha256', 'directory']);

/**
 * Validates a destination body. With `existing` (PATCH), the body changes only what it names: the settings
 * object is merged field by field with the stored one, so a secret need not be sent again; the type cannot change.
 */
export function parseDestinationInput(body: unknown, existing?: DestinationInput): DestinationInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError([{ name: 'body', reason: 'must be a JSON object' }]);
  }
  const input = body as Record<string, unknown>;
  const problems: InvalidParam[] = [];
  const bad = (name: string, reason: string) => problems.push({ name, reason });
  for (const key of Object.keys(input)) if (!TOP_FIELDS.has(key)) bad(key, 'unknown field');

  const text = (source: Record<string, unknown>, path: string, field: string, options: { required: boolean; max?: number; pattern?: RegExp; rule?: string }): string | undefined => {
    const value = source[field];
    const name = path ? `${path}.${field}` : field;
    if (value === undefined || value === null) return void (options.required && bad(name, 'is required'));
    if (typeof value !== 'string') return void bad(name, 'must be a string');
    if (options.required && value.length === 0) return void bad(name, 'must not be empty');
    if (value.length > (options.max ?? 256)) return void bad(name, `must be at most ${options.max ?? 256} characters`);
    if (options.pattern && !options.pattern.test(value)) return void bad(name, options.rule ?? 'has an invalid format');
    return value;
  };

  if (existing && input.type !== undefined && input.type !== existing.type) bad('type', `cannot change (the destination is ${existing.type}); create a new destination`);
  const type = existing?.type ?? (DESTINATION_TYPES.includes(input.type as DestinationType) ? (input.type as DestinationType) : undefined);
  if (!type) bad('type', `is required: one of ${DESTINATION_TYPES.join(', ')}`);

  const name = text(input, '', 'name', { required: !existing, max: 100 }) ?? existing?.name;
  const keyTemplate = parseKeyTemplate(input.key_template, bad) ?? existing?.key_template ?? DEFAULT_KEY_TEMPLATE;

  const other = type === 's3' ? 'sftp' : 's3';
  if (type && input[other] !== undefined) bad(other, `does not apply to a ${type} destination`);
  const section = (field: 's3' | 'sftp', known: Set<string>): Record<string, unknown> | undefined => {
    const value = input[field];
    const stored = existing && existing.type === field ? (existing as unknown as Record<string, Record<string, unknown>>)[field] : undefined;
    if (value === undefined || value === null) {
      if (!stored) bad(field, `is required for a ${field} destination`);
      return stored ? { ...stored } : undefined;
    }
    if (typeof value !== 'object' || Array.isArray(value)) return void bad(field, 'must be an object');
    for (const key of Object.keys(value)) if (!known.has(key)) bad(`${field}.${key}`, 'unknown field');
    return { ...stored, ...(value as Record<string, unknown>) };
  };

  let settings: DestinationSettings | undefined;
  if (type === 's3') {
    const s3 = section('s3', S3_FIELDS);
    if (s3) {
      const endpoint = text(s3, 's3', 'endpoint', { required: false, max: 2048 });
      if (endpoint !== undefined && endpoint !== '') {
        let url: URL | undefined;
        try {
          url = new URL(endpoint);
        } catch {
          bad('s3.endpoint', 'must be an absolute http(s) URL like https://s3.eu-central-1.amazonaws.com');
        }
        if (url && url.protocol !== 'http:' && url.protocol !== 'https:') bad('s3.endpoint', 'must use http or https');
        if (url && (url.username || url.password)) bad('s3.endpoint', 'must not carry credentials; use access_key_id and secret_access_key');
      }
      const region = text(s3, 's3', 'region', { required: false, max: 64, pattern: /^[a-z0-9-]+$/, rule: 'must be a region name like us-east-1' }) ?? 'us-east-1';
      const bucket = text(s3, 's3', 'bucket', { required: true, max: 63, pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, rule: 'must be an S3 bucket name (3-63 lowercase letters, digits, "." and "-")' });
      const prefix = text(s3, 's3', 'prefix', { required: false, max: 512, pattern: SAFE_PATH, rule: PATH_RULE }) ?? '';
      if (prefix.startsWith('/')) bad('s3.prefix', 'must not start with "/"');
      const forcePathStyle = s3.force_path_style ?? false;
      if (typeof forcePathStyle !== 'boolean') bad('s3.force_path_style', 'must be true or false');
      const accessKeyId = text(s3, 's3', 'access_key_id', { required: true, max: 256 });
      const secret = text(s3, 's3', 'secret_access_key', { required: true, max: 1024 });
      if (bucket && accessKeyId && secret) {
        settings = {
          type: 's3',
          s3: {
            ...(endpoint ? { endpoint } : {}),
            region,
            bucket,
            prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`,
            force_path_style: forcePathStyle === true,
            access_key_id: accessKeyId,
            secret_access_key: secret,
          },
        };
      }
    }
  } else if (type === 'sftp') {
    const sftp = section('sftp', SFTP_FIELDS);
    if (sftp) {
      const host = text(sftp, 'sftp', 'host', { required: true, max: 253, pattern: /^[A-Za-z0-9.:\-[\]]+$/, rule: 'must be a host name or IP address' });
      const port = sftp.port ?? 22;
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) bad('sftp.port', 'must be a port number 1-65535');
      const username = text(sftp, 'sftp', 'username', { required: true, max: 128 });
      const password = text(sftp, 'sftp', 'password', { required: false, max: 1024 });
      const privateKey = text(sftp, 'sftp', 'private_key', { required: false, max: 16_384 });
      if (!password && !privateKey) bad('sftp', 'needs password or private_key');
      if (privateKey && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(privateKey)) bad('sftp.private_key', 'must be a PEM or OpenSSH private key (-----BEGIN ... PRIVATE KEY-----)');
      const fingerprint = text(sftp, 'sftp', 'host_key_sha256', {
        required: true,
        max: 60,
        pattern: /^(SHA256:)?[A-Za-z0-9+/]{43}=?$/,
        rule: 'must be the host key fingerprint as `ssh-keygen -lf` prints it: SHA256:<43 base64 characters>',
      });
      const directory = text(sftp, 'sftp', 'directory', { required: false, max: 512, pattern: SAFE_PATH, rule: PATH_RULE }) ?? '.';
      if (host && typeof port === 'number' && username && fingerprint && (password || privateKey)) {
        settings = {
          type: 'sftp',
          sftp: {
            host,
            port,
            username,
            ...(password ? { password } : {}),
            ...(privateKey ? { private_key: privateKey } : {}),
            host_key_sha256: fingerprint.startsWith('SHA256:') ? fingerprint : `SHA256:${fingerprint}`,
            directory: directory.length > 1 ? directory.replace(/\/+$/, '') : directory,
          },
        };
      }
    }
  }

  if (problems.length > 0 || !settings || !name) throw new ValidationError(problems.length > 0 ? problems : [{ name: 'body', reason: 'is incomplete' }]);
  return { ...settings, name, key_template: keyTemplate };
}

/** Folders and keys: printable, no `..` segment (a template must not climb out of the prefix or directory). */
const SAFE_PATH = /^(?!.*(^|\/)\.\.(\/|$))[A-Za-z0-9_.\-/=+@ ]*$/;
const PATH_RULE = 'may hold letters, digits, "/", "_", ".", "-", "=", "+", "@" and spaces, and no ".." segment';

function parseKeyTemplate(value: unknown, bad: (name: string, reason: string) => void): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 512) return void bad('key_template', 'must be a non-empty string of at most 512 characters');
  const unknown = [...value.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]!).filter((name) => !PLACEHOLDERS.includes(name));
  if (unknown.length > 0) return void bad('key_template', `unknown placeholder(s) ${unknown.map((n) => `{${n}}`).join(', ')}; use ${PLACEHOLDERS.map((n) => `{${n}}`).join(', ')}`);
  const literal = value.replace(/\{[^}]*\}/g, 'x');
  if (!SAFE_PATH.test(literal) || literal.startsWith('/')) return void bad('key_template', `${PATH_RULE}, and must not start with "/"`);
  if (!value.includes('{request_id}') && !value.includes('{period_start')) {
    return void bad('key_template', 'must hold {request_id} or {period_start:...}: otherwise every report would write over the previous one');
  }
  return value.endsWith('/') ? value : `${value}/`;
}

export interface KeyTemplateValues {
  account_id: string;
  request_id: string;
  product: string;
  /** The schedule of a scheduled run, else absent (rendered `unscheduled`). */
  schedule_id?: string;
  /** The local start date (YYYY-MM-DD) of the run's period; a one-off report's date_start day. */
  period_start: string;
}

/** The folder (ending with '/') a report's files go in, relative to the destination's prefix or directory. */
export function renderKeyTemplate(template: string, values: KeyTemplateValues): string {
  return template
    .replaceAll('{account_id}', values.account_id)
    .replaceAll('{request_id}', values.request_id)
    .replaceAll('{product}', values.product)
    .replaceAll('{schedule_id}', values.schedule_id ?? 'unscheduled')
    .replaceAll('{period_start:YYYY-MM-DD}', values.period_start)
    .replaceAll('{period_start:YYYY-MM}', values.period_start.slice(0, 7));
}

/** A destination's settings with every secret taken out, and the secrets apart (to be sealed). */
export function splitSecrets(settings: DestinationSettings): { public: DestinationSettings; secrets: Record<string, string> } {
  const section = settings.type === 's3' ? { ...settings.s3 } : { ...settings.sftp };
  const secrets: Record<string, string> = {};
  for (const field of DESTINATION_SECRET_FIELDS) {
    const value = (section as Record<string, unknown>)[field];
    if (typeof value === 'string') secrets[field] = value;
    delete (section as Record<string, unknown>)[field];
  }
  return { public: (settings.type === 's3' ? { type: 's3', s3: section } : { type: 'sftp', sftp: section }) as DestinationSettings, secrets };
}
