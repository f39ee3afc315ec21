import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { REPORT_FILE_NAME, createCompressor, isSplitFileName, reportFileNaming, splitFileNaming } from '@cdr-reports/export';
import { gunzip, reportRequest, unzip } from '@cdr-reports/testing';

const REPORT_ID = '6f1c2b8e-3a4d-4e5f-9a0b-1c2d3e4f5a6b';

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(stream, 'end');
  return Buffer.concat(chunks);
}

describe('reportFileNaming', () => {
  it('names a gzip report {PRODUCT}_{request_id}.csv.gz, stored as application/gzip under the account', () => {
    for (const product of ['VOICE-CALL', 'SMS', 'MESSAGES'] as const) {
      expect(reportFileNaming(REPORT_ID, reportRequest({ product }))).toEqual({
        name: `${product}_${REPORT_ID}.csv.gz`,
        key: `reports/acme/${REPORT_ID}/${product}_${REPORT_ID}.csv.gz`,
        contentType: 'application/gzip',
      });
    }
  });

  it('names a zip report {PRODUCT}_{request_id}.zip holding report_{PRODUCT}_{account_id}_{yyyymmdd}.csv', () => {
    expect(reportFileNaming(REPORT_ID, reportRequest({ product: 'VOICE-CALL', account_id: 'acme-uk', compression: 'zip', date_start: '2026-03-15T10:20:30Z' }))).toEqual({
      name: `VOICE-CALL_${REPORT_ID}.zip`,
      key: `reports/acme-uk/${REPORT_ID}/VOICE-CALL_${REPORT_ID}.zip`,
      contentType: 'application/zip',
      entryName: 'report_VOICE-CALL_acme-uk_20260315.csv',
    });
  });

  it('dates the zip entry by the day date_start names, in the report time zone, not by its UTC day', () => {
    // Midnight of 1 March in Paris is 28 February 23:00 UTC; the caller asked for a March report in Paris time.
    const naming = reportFileNaming(REPORT_ID, reportRequest({ compression: 'zip', date_start: '2026-03-01T00:00:00+01:00', timezone: 'Europe/Paris' }));
    expect(naming.entryName).toBe('report_SMS_acme_20260301.csv');
  });
});

describe('splitFileNaming', () => {
  it('names gzip files {PRODUCT}_{request_id}_part00001.csv.gz, in the folder of the single file', () => {
    const naming = reportFileNaming(REPORT_ID, reportRequest({ product: 'VOICE-CALL' }));
    expect(splitFileNaming(naming, 1)).toEqual({
      name: `VOICE-CALL_${REPORT_ID}_part00001.csv.gz`,
      key: `reports/acme/${REPORT_ID}/VOICE-CALL_${REPORT_ID}_part00001.csv.gz`,
      contentType: 'application/gzip',
    });
    expect(splitFileNaming(naming, 12).name).toBe(`VOICE-CALL_${REPORT_ID}_part00012.csv.gz`);
  });

  it('names usage files usage_{PRODUCT}_{request_id}_part00002.csv.gz', () => {
    const naming = reportFileNaming(REPORT_ID, reportRequest({ type: 'usage' }));
    expect(splitFileNaming(naming, 2).name).toBe(`usage_SMS_${REPORT_ID}_part00002.csv.gz`);
  });

  it('names zip files ..._part00003.zip holding the CSV entry with _part00003 before .csv', () => {
    const naming = reportFileNaming(REPORT_ID, reportRequest({ account_id: 'acme-uk', compression: 'zip', date_start: '2026-03-15T10:20:30Z' }));
    expect(splitFileNaming(naming, 3)).toEqual({
      name: `SMS_${REPORT_ID}_part00003.zip`,
      key: `reports/acme-uk/${REPORT_ID}/SMS_${REPORT_ID}_part00003.zip`,
      contentType: 'application/zip',
      entryName: 'report_SMS_acme-uk_20260315_part00003.csv',
    });
  });
});

describe('createCompressor', () => {
  const csv = 'id,message_body\n1,"a\r\nb, ""c"""\n2,🎉 é\n';

  it('gzip: the output is a .gz that gunzip restores byte for byte', async () => {
    const compressor = createCompressor('gzip', 1);
    const output = collect(compressor.output);
    // Written in small pieces, as COPY delivers it.
    for (const piece of csv.match(/.{1,5}/gsu) ?? []) compressor.input.write(Buffer.from(piece));
    compressor.input.end();
    expect((await gunzip(await output)).toString('utf8')).toBe(csv);
  });

  it('zip: the output is a zip with the one named entry holding the CSV byte for byte', async () => {
    const compressor = createCompressor('zip', 6, 'report_SMS_acme_20260301.csv');
    const output = collect(compressor.output);
    compressor.input.end(Buffer.from(csv));
    const { entries, content } = await unzip(await output);
    expect(entries).toEqual(['report_SMS_acme_20260301.csv']);
    expect(content.toString('utf8')).toBe(csv);
  });

  it('gzip: an empty CSV still makes a valid, empty .gz', async () => {
    const compressor = createCompressor('gzip', 6);
    const output = collect(compressor.output);
    compressor.input.end();
    expect(await gunzip(await output)).toEqual(Buffer.alloc(0));
  });
});

describe('report file names', () => {
  const id = '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f';
  it('knows every split file name the naming gives, Parquet included, and nothing else', () => {
    for (const extension of ['csv.gz', 'jsonl.gz', 'zip', 'parquet']) {
      expect({ extension, split: isSplitFileName(`VOICE-CALL_${id}_part00002.${extension}`) }).toEqual({ extension, split: true });
      expect({ extension, whole: isSplitFileName(`usage_SMS_${id}.${extension}`), known: REPORT_FILE_NAME.test(`usage_SMS_${id}.${extension}`) }).toEqual({ extension, whole: false, known: true });
    }
    for (const name of ['manifest.json', `notes_part00001.csv.gz`, `VOICE-CALL_${id}_part00001.csv`, `README.txt`]) {
      expect({ name, known: REPORT_FILE_NAME.test(name), split: isSplitFileName(name) }).toEqual({ name, known: false, split: false });
    }
  });
});
