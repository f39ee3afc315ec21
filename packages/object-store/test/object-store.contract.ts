import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { StorageUnavailableError } from '@cdr-reports/domain';
import { keysUnder, waitFor } from '@cdr-reports/testing';
import { attachmentDisposition, type ObjectStore } from '../src';

const MIB = 1024 * 1024;
const CHUNK = 64 * 1024;

/** A stream of `size` random bytes whose digest is known once it has been read to the end. */
function randomSource(size: number): { stream: Readable; digest: () => string } {
  const hash = createHash('sha256');
  let sent = 0;
  const stream = new Readable({
    read() {
      if (sent >= size) {
        this.push(null);
        return;
      }
      const chunk = randomBytes(Math.min(CHUNK, size - sent));
      sent += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, digest: () => hash.copy().digest('hex') };
}

/** A stream that produces `size` bytes and then neither ends nor fails: an export stuck mid-way. */
function stallingSource(size: number): { stream: Readable; produced: () => number } {
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

async function digestOf(stream: Readable): Promise<{ size: number; digest: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, digest: hash.digest('hex') };
}


/**
 * Stores of the adapter whose storage is out of reach, by situation: `{ 'the server is down': ..., 'the bucket
 * does not exist': ... }`. Each must fail every call; the contract checks how.
 */
export type UnavailableStores = Record<string, () => ObjectStore | Promise<ObjectStore>>;

/**
 * The behaviour every ObjectStore adapter must have. Build the adapter with its smallest part size (5 MiB)
 * and a small list page size (2) so that multipart uploads and list paging are both exercised. `unavailable`
 * gives stores of the same adapter whose storage cannot be used (see UnavailableStores).
 */
export function itBehavesLikeAnObjectStore(makeStore: () => ObjectStore | Promise<ObjectStore>, unavailable: UnavailableStores = {}): void {
  describe('ObjectStore contract', () => {
    let store: ObjectStore;
    let base: string;

    beforeAll(async () => {
      store = await makeStore();
    });

    beforeEach(() => {
      base = `contract-${randomBytes(5).toString('hex')}/`;
    });

    it('stores a multipart stream and reads it back byte for byte', async () => {
      const key = `${base}big.bin`;
      const size = 12 * MIB + 12_345;
      const source = randomSource(size);

      const stored = await store.putStream(key, source.stream, { contentType: 'application/octet-stream' });

      expect(stored).toEqual({ key, size });
      expect((await store.head(key))?.size).toBe(size);
      const body = await store.getStream(key);
      expect(body).toBeDefined();
      expect(await digestOf(body!)).toEqual({ size, digest: source.digest() });
    });

    it('stores the content type and content disposition', async () => {
      const key = `${base}report.csv.gz`;
      const disposition = attachmentDisposition('calls 2024-05.csv.gz');

      await store.putStream(key, Readable.from([Buffer.from('gzip bytes')]), {
        contentType: 'application/gzip',
        contentDisposition: disposition,
      });

      expect(await store.head(key)).toEqual({
        key,
        size: 10,
        lastModified: expect.any(Date),
        contentType: 'application/gzip',
        contentDisposition: disposition,
      });
    });

    it('stores an empty stream as an empty object', async () => {
      const key = `${base}empty.csv`;
      expect(await store.putStream(key, Readable.from([]), { contentType: 'text/csv' })).toEqual({ key, size: 0 });
      expect((await store.head(key))?.size).toBe(0);
    });

    it('leaves no object behind when an upload is aborted mid-way', async () => {
      const key = `${base}aborted.bin`;
      // More than one part has been handed to the upload when the abort comes.
      const source = stallingSource(11 * MIB);
      const controller = new AbortController();

      const upload = store.putStream(key, source.stream, { contentType: 'application/octet-stream', signal: controller.signal });
      await waitFor(() => source.produced() >= 11 * MIB, { what: 'the upload to read the source' });
      controller.abort();

      await expect(upload).rejects.toMatchObject({ name: 'AbortError' });
      expect(source.stream.destroyed).toBe(true);
      expect(await store.head(key)).toBeUndefined();
      expect(await keysUnder(store, base)).toEqual([]);
    });

    it('rejects an already aborted upload without storing anything', async () => {
      const key = `${base}never.bin`;
      const source = randomSource(1024);

      const upload = store.putStream(key, source.stream, { contentType: 'text/plain', signal: AbortSignal.abort() });

      await expect(upload).rejects.toMatchObject({ name: 'AbortError' });
      expect(await store.head(key)).toBeUndefined();
    });

    it('rejects with the source error when the stream fails, storing nothing', async () => {
      const key = `${base}broken.bin`;
      const source = stallingSource(6 * MIB);
      const upload = store.putStream(key, source.stream, { contentType: 'application/octet-stream' });
      await waitFor(() => source.produced() >= 6 * MIB, { what: 'the upload to read the source' });

      source.stream.destroy(new Error('export query failed'));

      await expect(upload).rejects.toThrow('export query failed');
      expect(await store.head(key)).toBeUndefined();
    });

    it('presigns a GET that downloads the bytes under the given file name', async () => {
      const key = `${base}download.csv.gz`;
      const bytes = randomBytes(200_000);
      await store.putStream(key, Readable.from([bytes]), { contentType: 'application/gzip' });

      const url = await store.presignGet(key, 300, 'calls été.csv.gz');
      const response = await fetch(url);

      expect(response.status).toBe(200);
      expect(response.headers.get('content-disposition')).toBe(attachmentDisposition('calls été.csv.gz'));
      expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
    });

    it('presigns for at most 7 days', async () => {
      const key = `${base}any`;
      await expect(store.presignGet(key, 7 * 24 * 3600 + 1)).rejects.toThrow(RangeError);
      await expect(store.presignGet(key, 0)).rejects.toThrow(RangeError);
      await expect(store.presignGet(key, 7 * 24 * 3600)).resolves.toMatch(/^https?:\/\//);
    });

    it('answers undefined for a missing object', async () => {
      expect(await store.head(`${base}missing`)).toBeUndefined();
      expect(await store.getStream(`${base}missing`)).toBeUndefined();
    });

    it('concatenates objects into one, small ones streamed through and large ones copied (or streamed where the server cannot copy)', async () => {
      const small = ['a', 'b', 'c'].map((name) => ({ key: `${base}cat/small-${name}`, bytes: Buffer.from(`part ${name}\n`) }));
      const big = [0, 1].map((n) => ({ key: `${base}cat/big-${n}`, bytes: Buffer.alloc(5 * 1024 * 1024 + n, n + 1) }));
      for (const { key, bytes } of [...small, ...big]) await store.putStream(key, Readable.from([bytes]), { contentType: 'application/octet-stream' });

      for (const sources of [small, [...big, small[0]!]]) {
        const target = `${base}cat/joined-${sources.length}`;
        const stored = await store.concatenate(sources.map((s) => s.key), target, { contentType: 'application/gzip', contentDisposition: attachmentDisposition('r.csv.gz') });
        const expected = Buffer.concat(sources.map((s) => s.bytes));
        expect(stored).toEqual({ key: target, size: expected.length });
        const read = await store.getStream(target);
        expect(Buffer.concat(await read!.toArray()).equals(expected)).toBe(true);
        expect(await store.head(target)).toMatchObject({ size: expected.length, contentType: 'application/gzip', contentDisposition: attachmentDisposition('r.csv.gz') });
      }
      // The sources are left as they are.
      expect(await store.head(small[0]!.key)).toMatchObject({ size: small[0]!.bytes.length });
      await expect(store.concatenate([`${base}cat/missing`], `${base}cat/never`, { contentType: 'text/plain' })).rejects.toThrow(/no object/);
    });

    it('deletes an object, and deleting it again is not an error', async () => {
      const key = `${base}gone.txt`;
      await store.putStream(key, Readable.from([Buffer.from('x')]), { contentType: 'text/plain' });

      await store.delete(key);
      await store.delete(key);

      expect(await store.head(key)).toBeUndefined();
    });

    it('lists every object under a prefix across pages, and deletes exactly those', async () => {
      const doomed = ['a', 'b', 'c', 'd', 'e'].map((name) => `${base}drop/${name}.txt`);
      const kept = `${base}keep/a.txt`;
      for (const key of [...doomed, kept]) {
        await store.putStream(key, Readable.from([Buffer.from(key)]), { contentType: 'text/plain' });
      }

      const listed: Array<{ key: string; size: number }> = [];
      for await (const { key, size } of store.list(`${base}drop/`)) listed.push({ key, size });
      expect(listed).toEqual(doomed.map((key) => ({ key, size: Buffer.byteLength(key) })));

      expect(await store.deletePrefix(`${base}drop/`)).toBe(5);
      expect(await keysUnder(store, `${base}drop/`)).toEqual([]);
      expect(await keysUnder(store, base)).toEqual([kept]);
    });

    it('is ready when its bucket answers', async () => {
      await expect(store.checkReady()).resolves.toBeUndefined();
    });

    it('refuses to delete everything with an empty prefix', async () => {
      await expect(store.deletePrefix('')).rejects.toThrow(RangeError);
    });
  });

  for (const [situation, makeUnavailable] of Object.entries(unavailable)) {
    describe(`ObjectStore contract when ${situation}`, () => {
      let store: ObjectStore;

      beforeAll(async () => {
        store = await makeUnavailable();
      });

      it('rejects an upload with StorageUnavailableError and destroys its body', async () => {
        const { stream } = randomSource(6 * MIB);
        const upload = store.putStream('outage/report.csv.gz', stream, { contentType: 'application/gzip' });
        await expect(upload).rejects.toBeInstanceOf(StorageUnavailableError);
        await expect(upload).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
        // The pipeline that feeds the upload destroys the body as it closes, a tick later.
        await waitFor(() => stream.destroyed, { timeoutMs: 2_000, what: 'the body to be destroyed' });
      });

      it('rejects reads with StorageUnavailableError, never answering "no such object"', async () => {
        await expect(store.getStream('outage/report.csv.gz')).rejects.toBeInstanceOf(StorageUnavailableError);
        await expect(store.head('outage/report.csv.gz')).rejects.toBeInstanceOf(StorageUnavailableError);
        await expect(store.checkReady()).rejects.toBeInstanceOf(StorageUnavailableError);
        await expect(keysUnder(store, 'outage/')).rejects.toBeInstanceOf(StorageUnavailableError);
      });

      it('rejects deletions with StorageUnavailableError', async () => {
        await expect(store.delete('outage/report.csv.gz')).rejects.toBeInstanceOf(StorageUnavailableError);
        await expect(store.deletePrefix('outage/')).rejects.toBeInstanceOf(StorageUnavailableError);
      });

      it('keeps an abort an abort', async () => {
        const controller = new AbortController();
        const { stream } = randomSource(6 * MIB);
        const upload = store.putStream('outage/aborted.bin', stream, { contentType: 'application/octet-stream', signal: controller.signal });
        controller.abort();
        const error = await upload.then(
          () => undefined,
          (reason: unknown) => reason,
        );
        expect(error).toMatchObject({ name: 'AbortError' });
        expect(error).not.toBeInstanceOf(StorageUnavailableError);
      });
    });
  }
}
