import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { AddressPolicy } from '@cdr-reports/webhooks';
import { waitFor } from '@cdr-reports/testing';
import {
  DestinationError,
  destinationAddressRefusal,
  openDestination,
  testDestination,
  type DestinationConnection,
  type DestinationOptions,
  type DestinationSession,
  type DestinationStep,
} from '../src';

const MIB = 1024 * 1024;
const CHUNK = 64 * 1024;

/** A stream of `size` random bytes whose digest is known once it has been read to the end. */
export function randomSource(size: number): { stream: Readable; digest: () => string } {
  const hash = createHash('sha256');
  let sent = 0;
  const stream = new Readable({
    read() {
      if (sent >= size) return void this.push(null);
      const chunk = randomBytes(Math.min(CHUNK, size - sent));
      sent += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, digest: () => hash.copy().digest('hex') };
}

/** A stream that produces `size` bytes and then neither ends nor fails: an export stuck mid-way. */
export function stallingSource(size: number): { stream: Readable; produced: () => number } {
  let sent = 0;
  const stream = new Readable({
    read() {
      if (sent >= size) return;
      const chunk = randomBytes(CHUNK);
      sent += chunk.length;
      this.push(chunk);
    },
  });
  return { stream, produced: () => sent };
}

export async function digestOf(stream: Readable): Promise<{ size: number; digest: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, digest: hash.digest('hex') };
}

export async function textOf(session: DestinationSession, key: string): Promise<string> {
  return Buffer.concat(await (await session.read(key)).toArray()).toString('utf8');
}

export async function keysUnder(session: DestinationSession, folder: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of session.list(folder)) keys.push(key);
  return keys.sort();
}

const text = (value: string) => Readable.from([Buffer.from(value)]);

/** The error an attempt to open the destination and write one small file ends with, or undefined if it worked. */
export async function failureOf(connection: DestinationConnection, options: DestinationOptions): Promise<unknown> {
  let session: DestinationSession | undefined;
  try {
    session = await openDestination(connection, options);
    await session.write(`attempt-${randomBytes(4).toString('hex')}.txt`, text('x'), { contentType: 'text/plain' });
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await session?.close();
  }
}

/** A connection of the adapter that must fail, and how. */
export interface FailingDestination {
  connection: DestinationConnection;
  step: DestinationStep;
  retryable: boolean;
  /** What the error message must say. */
  error: RegExp;
}

export interface DestinationContract {
  /** A reachable destination with valid credentials, its root empty or private to the suite. */
  connection: () => DestinationConnection;
  /** Where a relative key lands, as the adapter documents it. */
  expectedLocation: (relativeKey: string) => string;
  /** Connections that must fail, by situation (`'the server is down': ...`). Factories: servers start in beforeAll. */
  failing: Record<string, () => FailingDestination>;
  /** Connections whose host a default AddressPolicy (no allowed networks) refuses: an IP literal, a name resolving to loopback. */
  refusedByDefaultPolicy: Record<string, () => DestinationConnection>;
  /**
   * Leaves what a write killed mid-way leaves for `relativeKey` (the adapter's temporary file, or unfinished upload),
   * through the server itself, not the adapter; and counts those left under a relative folder.
   */
  abandonWrite(relativeKey: string): Promise<void>;
  abandonedWrites(relativeFolder: string): Promise<number>;
}

/** The policy the suites reach their local servers with. */
export const LOOPBACK_POLICY = new AddressPolicy(['127.0.0.0/8']);
const options: DestinationOptions = { policy: LOOPBACK_POLICY, connectTimeoutMs: 5_000 };

/**
 * The behaviour every destination adapter must have, run against a real server of its kind (immich's
 * itBehavesLikeADriver). Each test writes under a folder of its own.
 */
export function itBehavesLikeADestination(contract: DestinationContract): void {
  describe('Destination contract', () => {
    let session: DestinationSession;
    let base: string;

    beforeAll(async () => {
      session = await openDestination(contract.connection(), options);
    });

    afterAll(async () => {
      await session?.close();
    });

    beforeEach(() => {
      base = `contract-${randomBytes(5).toString('hex')}`;
    });

    it('streams a multi-MiB body and reads it back byte for byte', async () => {
      const key = `${base}/big.bin`;
      const size = 17 * MIB + 12_345;
      const source = randomSource(size);

      const written = await session.write(key, source.stream, { contentType: 'application/octet-stream' });

      expect(written).toEqual({ location: contract.expectedLocation(key), size });
      expect(await digestOf(await session.read(key))).toEqual({ size, digest: source.digest() });
    });

    it('writes an empty body as an empty file', async () => {
      const key = `${base}/empty.csv`;
      expect(await session.write(key, Readable.from([]), { contentType: 'text/csv' })).toEqual({ location: contract.expectedLocation(key), size: 0 });
      expect(await textOf(session, key)).toBe('');
    });

    it('replaces what is there', async () => {
      const key = `${base}/report.csv`;
      await session.write(key, text('a long first version\n'.repeat(100)), { contentType: 'text/csv' });
      await session.write(key, text('second\n'), { contentType: 'text/csv' });
      expect(await textOf(session, key)).toBe('second\n');
      expect(await keysUnder(session, base)).toEqual([key]);
    });

    it('writes into nested folders that do not exist yet', async () => {
      const key = `${base}/2024/05/31/account-42/calls.csv.gz`;
      await session.write(key, text('nested'), { contentType: 'application/gzip' });
      expect(await textOf(session, key)).toBe('nested');
    });

    it('lists the keys under a folder, recursively, relative to the root', async () => {
      const keys = [`${base}/a.txt`, `${base}/b/c.txt`, `${base}/b/d/e.txt`, `${base}-sibling/f.txt`];
      for (const key of keys) await session.write(key, text(key), { contentType: 'text/plain' });

      expect(await keysUnder(session, base)).toEqual(keys.slice(0, 3));
      expect(await keysUnder(session, `${base}/`)).toEqual(keys.slice(0, 3));
      expect(await keysUnder(session, `${base}/b`)).toEqual(keys.slice(1, 3));
      expect(await keysUnder(session, `${base}/missing`)).toEqual([]);
      expect(await keysUnder(session, '')).toEqual(expect.arrayContaining(keys));
    });

    it('removes what writes killed mid-way left in a folder, and nothing else', async () => {
      await session.write(`${base}/kept.csv`, text('kept'), { contentType: 'text/csv' });
      await contract.abandonWrite(`${base}/killed.csv`);
      await contract.abandonWrite(`${base}-other/killed.csv`);
      expect(await contract.abandonedWrites(base)).toBe(1);

      expect(await session.removeAbandonedWrites(base)).toBe(1);
      expect(await contract.abandonedWrites(base)).toBe(0);
      expect(await keysUnder(session, base)).toEqual([`${base}/kept.csv`]);
      expect(await contract.abandonedWrites(`${base}-other`)).toBe(1);
      expect(await session.removeAbandonedWrites(`${base}-other/`)).toBe(1);
    });

    it('deletes a file; deleting a missing one is not an error', async () => {
      const key = `${base}/gone.txt`;
      await session.write(key, text('x'), { contentType: 'text/plain' });

      await session.delete(key);
      await session.delete(key);
      await session.delete(`${base}/never-was/here.txt`);

      expect(await keysUnder(session, base)).toEqual([]);
      await expect(session.read(key)).rejects.toMatchObject({ name: 'DestinationError', step: 'read', retryable: false });
    });

    it('says where a key lands', () => {
      expect(session.location('x/y.csv')).toBe(contract.expectedLocation('x/y.csv'));
    });

    it('refuses keys that could leave the root', async () => {
      for (const key of ['../escape.txt', 'a/../../escape.txt', '/absolute.txt', 'a//b.txt', '', 'a/./b']) {
        expect(() => session.location(key)).toThrow(RangeError);
        await expect(session.write(key, text('x'), { contentType: 'text/plain' })).rejects.toThrow(RangeError);
      }
      await expect(keysUnder(session, '../')).rejects.toThrow(RangeError);
    });

    it('leaves nothing behind when a write is aborted mid-way', async () => {
      const key = `${base}/aborted.bin`;
      const source = stallingSource(9 * MIB);
      const controller = new AbortController();

      const writing = session.write(key, source.stream, { contentType: 'application/octet-stream', signal: controller.signal });
      await waitFor(() => source.produced() >= 9 * MIB, { what: 'the write to read the source' });
      controller.abort();

      await expect(writing).rejects.toMatchObject({ name: 'AbortError' });
      expect(source.stream.destroyed).toBe(true);
      expect(await keysUnder(session, base)).toEqual([]);
    });

    it('rejects with the body’s own error when the body fails, leaving nothing behind', async () => {
      const key = `${base}/broken.bin`;
      const source = stallingSource(2 * MIB);
      const writing = session.write(key, source.stream, { contentType: 'application/octet-stream' });
      await waitFor(() => source.produced() >= 2 * MIB, { what: 'the write to read the source' });

      source.stream.destroy(new Error('export query failed'));

      await expect(writing).rejects.toThrow('export query failed');
      expect(await keysUnder(session, base)).toEqual([]);
    });

    it('passes testDestination, leaving no probe behind', async () => {
      expect(await testDestination(contract.connection(), options)).toEqual({ ok: true });
      expect((await keysUnder(session, '')).filter((key) => key.includes('probe'))).toEqual([]);
    });

    it('is accepted by the address check when the policy allows its address', async () => {
      expect(await destinationAddressRefusal(contract.connection(), LOOPBACK_POLICY)).toBeUndefined();
    });
  });

  for (const [situation, makeFailing] of Object.entries(contract.failing)) {
    describe(`Destination contract when ${situation}`, () => {
      it('fails testDestination at the expected step with a clear error, never throwing', async () => {
        const failing = makeFailing();
        const result = await testDestination(failing.connection, options);
        expect(result).toEqual({ ok: false, step: failing.step, retryable: failing.retryable, error: expect.stringMatching(failing.error) });
      });

      it('rejects opening or writing with a DestinationError of that step', async () => {
        const failing = makeFailing();
        const error = await failureOf(failing.connection, options);
        expect(error).toBeInstanceOf(DestinationError);
        expect(error).toMatchObject({ step: failing.step, retryable: failing.retryable, message: expect.stringMatching(failing.error) });
      });
    });
  }

  for (const [situation, makeRefused] of Object.entries(contract.refusedByDefaultPolicy)) {
    describe(`Destination contract with the default address policy when ${situation}`, () => {
      const defaultPolicy = new AddressPolicy();

      it('is refused when saved', async () => {
        expect(await destinationAddressRefusal(makeRefused(), defaultPolicy)).toMatch(/loopback/);
      });

      it('is refused at connect time, not retryable', async () => {
        const error = await failureOf(makeRefused(), { policy: defaultPolicy });
        expect(error).toBeInstanceOf(DestinationError);
        expect(error).toMatchObject({ step: 'connect', retryable: false, message: expect.stringMatching(/refused to connect .*loopback/) });
        expect(await testDestination(makeRefused(), { policy: defaultPolicy })).toMatchObject({ ok: false, step: 'connect', retryable: false });
      });
    });
  }
}
