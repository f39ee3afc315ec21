import { randomBytes } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { UnrecoverableJobError } from '@cdr-reports/domain';
import { createCompressor } from '../src/report-file';
import { checkLimits, splitBlockBytes, zipFileBudget } from '../src/split-limits';

const MIB = 1024 * 1024;

describe('checkLimits', () => {
  it('takes a rows limit of at least 1 and a byte limit of at least 1 MiB, alone or together', () => {
    expect(() => checkLimits({ maxFileRows: 1 })).not.toThrow();
    expect(() => checkLimits({ maxFileBytes: MIB })).not.toThrow();
    expect(() => checkLimits({ maxFileRows: 3000, maxFileBytes: 50 * MIB })).not.toThrow();
  });

  it('refuses, as no retry can help, limits no file can keep', () => {
    for (const limits of [{}, { maxFileRows: 0 }, { maxFileRows: 1.5 }, { maxFileBytes: MIB - 1 }, { maxFileBytes: Number.NaN }]) {
      expect(() => checkLimits(limits)).toThrow(UnrecoverableJobError);
    }
  });
});

describe('splitBlockBytes', () => {
  it('is 1 MiB, or half the byte limit when that is less', () => {
    expect(splitBlockBytes({ maxFileRows: 10 })).toBe(MIB);
    expect(splitBlockBytes({ maxFileBytes: 100 * MIB })).toBe(MIB);
    expect(splitBlockBytes({ maxFileBytes: MIB })).toBe(MIB / 2);
  });
});

describe('zipFileBudget', () => {
  const entryName = 'report_VOICE-CALL_acme-uk_20260315_part00001.csv';

  // The worst case: random bytes do not compress, deflate stores them with its block overhead.
  for (const maxFileBytes of [MIB, 3 * MIB + 17]) {
    for (const level of [1, 6, 9]) {
      it(`keeps a zip of incompressible data within ${maxFileBytes} bytes at level ${level}`, async () => {
        const budget = zipFileBudget(maxFileBytes, entryName);
        const compressor = createCompressor('zip', level, entryName);
        const zip = buffer(compressor.output);
        const data = randomBytes(budget);
        for (let at = 0; at < data.length; at += 64 * 1024) compressor.input.write(data.subarray(at, at + 64 * 1024));
        compressor.input.end();
        const size = (await zip).length;
        expect(size).toBeLessThanOrEqual(maxFileBytes);
        // And not wasteful: the margin is a few KiB.
        expect(maxFileBytes - size).toBeLessThan(4096);
      });
    }
  }
});
