import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { Sha256Tap } from '../src/sha256';

describe('Sha256Tap', () => {
  it('passes bytes through unchanged and hashes exactly them', async () => {
    const data = randomBytes(300_000);
    const tap = new Sha256Tap();
    const passed = await buffer(Readable.from([data.subarray(0, 1), data.subarray(1, 70_000), data.subarray(70_000)]).pipe(tap));
    expect(passed.equals(data)).toBe(true);
    expect(tap.bytes).toBe(data.length);
    expect(tap.digest()).toBe(createHash('sha256').update(data).digest('hex'));
  });
});
