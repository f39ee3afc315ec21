import { DestinationError } from '../src';
import { normalizeFingerprint, fingerprintOf } from '../src/host-key';
import { checkRelativeFolder, checkRelativeKey } from '../src/relative-key';
import { normalizePrefix } from '../src/s3-destination';
import { toS3DestinationError } from '../src/s3-errors';
import { toSftpConnectError, toSftpDestinationError } from '../src/sftp-errors';

const where = { bucket: 'acme', key: 'r/report.csv' };
/** An S3 error answer as the AWS SDK shapes it. */
const s3Error = (name: string, status: number) => Object.assign(new Error(`${name} message`), { name, Code: name, $metadata: { httpStatusCode: status } });

describe('toS3DestinationError', () => {
  it.each([
    ['InvalidAccessKeyId', 403, 'authenticate', false],
    ['SignatureDoesNotMatch', 403, 'authenticate', false],
    ['ExpiredToken', 400, 'authenticate', false],
    ['Forbidden', 403, 'authenticate', false],
    ['AccessDenied', 403, 'write', false],
    ['NoSuchBucket', 404, 'write', false],
    ['PermanentRedirect', 301, 'connect', false],
    ['InternalError', 500, 'write', true],
    ['SlowDown', 503, 'write', true],
    ['EntityTooLarge', 400, 'write', false],
  ])('maps %s (%d) to step %s, retryable %s', (code, status, step, retryable) => {
    const mapped = toS3DestinationError('write', s3Error(code, status), where);
    expect(mapped).toBeInstanceOf(DestinationError);
    expect(mapped).toMatchObject({ step, retryable });
  });

  it('says which bucket is missing and which access is denied', () => {
    expect(toS3DestinationError('write', s3Error('NoSuchBucket', 404), where)).toMatchObject({ message: expect.stringMatching(/^the bucket acme does not exist/) });
    expect(toS3DestinationError('delete', s3Error('AccessDenied', 403), where)).toMatchObject({ step: 'delete', message: expect.stringMatching(/denied delete access to s3:\/\/acme\/r\/report.csv/) });
  });

  it('maps network failures, also inside the SDK wrapper, to a retryable connect failure', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:443'), { code: 'ECONNREFUSED' });
    const wrapped = Object.assign(new Error('AWS SDK error wrapper for Error'), { $metadata: {}, cause: refused });
    expect(toS3DestinationError('read', wrapped, where)).toMatchObject({ step: 'connect', retryable: true, message: 'could not reach S3 (connect ECONNREFUSED 10.1.2.3:443)' });
    const timeout = Object.assign(new Error('Connection timed out after 10000 ms'), { name: 'TimeoutError', $metadata: {} });
    expect(toS3DestinationError('read', timeout, where)).toMatchObject({ step: 'connect', retryable: true });
  });

  it('keeps aborts, DestinationErrors raised below the SDK and foreign errors as they are', () => {
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    expect(toS3DestinationError('write', abort, where)).toBe(abort);
    const refused = new DestinationError('connect', 'refused to connect to x: 10.0.0.1 is a private address', { retryable: false });
    expect(toS3DestinationError('write', Object.assign(new Error('wrapper'), { $metadata: {}, cause: refused }), where)).toBe(refused);
    const bodyError = new Error('export query failed');
    expect(toS3DestinationError('write', bodyError, where)).toBe(bodyError);
  });
});

describe('SFTP errors', () => {
  const status = (code: number) => Object.assign(new Error(`status ${code}`), { code });

  it('maps status codes to steps', () => {
    expect(toSftpDestinationError('write', status(2), '/x', false)).toMatchObject({ step: 'write', retryable: false, message: expect.stringMatching(/no such file or directory.*\/x/) });
    expect(toSftpDestinationError('delete', status(3), '/x', false)).toMatchObject({ step: 'delete', retryable: false, message: expect.stringMatching(/denied delete access/) });
    expect(toSftpDestinationError('write', status(4), '/x', false)).toMatchObject({ step: 'write', retryable: true });
    expect(toSftpDestinationError('read', status(7), '/x', false)).toMatchObject({ step: 'connect', retryable: true });
    expect(toSftpDestinationError('read', new Error('No response from server'), '/x', true)).toMatchObject({ step: 'connect', retryable: true });
  });

  it('maps connection failures by ssh2 level', () => {
    const level = (name: string) => Object.assign(new Error(name), { level: name });
    expect(toSftpConnectError(level('client-authentication'), 'h:22')).toMatchObject({ step: 'authenticate', retryable: false });
    expect(toSftpConnectError(level('client-socket'), 'h:22')).toMatchObject({ step: 'connect', retryable: true });
    expect(toSftpConnectError(level('client-timeout'), 'h:22')).toMatchObject({ step: 'connect', retryable: true });
    expect(toSftpConnectError(level('handshake'), 'h:22')).toMatchObject({ step: 'connect', retryable: false });
  });
});

describe('host key fingerprints', () => {
  const key = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAILHA1WTpriYupvn8R5WVjTo2RwvLkC5emOE/lJTfF4N1', 'base64');

  it('computes OpenSSH’s SHA256 fingerprint of a raw public key', () => {
    // What `ssh-keygen -lf` printed for this key.
    expect(fingerprintOf(key)).toBe('SHA256:duy/5O9iVjRMHijRWGysRivDljWBIv+IwMiUIT89nYk');
  });

  it('accepts the fingerprint with or without prefix and padding, and nothing else', () => {
    const digest = fingerprintOf(key).slice('SHA256:'.length);
    expect(normalizeFingerprint(`SHA256:${digest}`)).toBe(digest);
    expect(normalizeFingerprint(` ${digest}= `)).toBe(digest);
    expect(() => normalizeFingerprint('MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48')).toThrow(RangeError);
    expect(() => normalizeFingerprint('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl')).toThrow(RangeError);
  });
});

describe('keys and prefixes', () => {
  it('accepts relative keys and refuses ones that could leave the root', () => {
    expect(checkRelativeKey('2024/05/report.csv.gz')).toBe('2024/05/report.csv.gz');
    for (const key of ['', '/a', 'a/', 'a//b', '../a', 'a/../b', './a', 'a\\b', 'a\0b']) expect(() => checkRelativeKey(key)).toThrow(RangeError);
    expect(checkRelativeFolder('')).toBe('');
    expect(checkRelativeFolder('a/b/')).toBe('a/b');
    expect(() => checkRelativeFolder('..')).toThrow(RangeError);
  });

  it('normalizes S3 prefixes to a folder', () => {
    expect(normalizePrefix('')).toBe('');
    expect(normalizePrefix('/')).toBe('');
    expect(normalizePrefix('reports')).toBe('reports/');
    expect(normalizePrefix('/reports/cdr//')).toBe('reports/cdr/');
  });
});
