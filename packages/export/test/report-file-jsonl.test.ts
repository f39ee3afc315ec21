import { reportFileNaming, splitFileNaming } from '@cdr-reports/export';
import { reportRequest } from '@cdr-reports/testing';

const REPORT_ID = '6f1c2b8e-3a4d-4e5f-9a0b-1c2d3e4f5a6b';

describe('naming of JSON Lines reports', () => {
  it('names a gzip report {PRODUCT}_{request_id}.jsonl.gz, stored as application/gzip', () => {
    expect(reportFileNaming(REPORT_ID, reportRequest({ product: 'VOICE-CALL', format: 'jsonl' }))).toEqual({
      name: `VOICE-CALL_${REPORT_ID}.jsonl.gz`,
      key: `reports/acme/${REPORT_ID}/VOICE-CALL_${REPORT_ID}.jsonl.gz`,
      contentType: 'application/gzip',
    });
    expect(reportFileNaming(REPORT_ID, reportRequest({ type: 'usage', format: 'jsonl' })).name).toBe(`usage_SMS_${REPORT_ID}.jsonl.gz`);
  });

  it('names a zip report {PRODUCT}_{request_id}.zip holding report_{PRODUCT}_{account_id}_{yyyymmdd}.jsonl', () => {
    expect(reportFileNaming(REPORT_ID, reportRequest({ format: 'jsonl', compression: 'zip', date_start: '2026-03-15T10:20:30Z' }))).toEqual({
      name: `SMS_${REPORT_ID}.zip`,
      key: `reports/acme/${REPORT_ID}/SMS_${REPORT_ID}.zip`,
      contentType: 'application/zip',
      entryName: 'report_SMS_acme_20260315.jsonl',
    });
    expect(reportFileNaming(REPORT_ID, reportRequest({ type: 'usage', format: 'jsonl', compression: 'zip' })).entryName).toBe('usage_SMS_acme_20260301.jsonl');
  });

  it('names split files {PRODUCT}_{request_id}_part00001.jsonl.gz, and zip entries ..._part00002.jsonl', () => {
    const gzip = reportFileNaming(REPORT_ID, reportRequest({ format: 'jsonl' }));
    expect(splitFileNaming(gzip, 1)).toEqual({
      name: `SMS_${REPORT_ID}_part00001.jsonl.gz`,
      key: `reports/acme/${REPORT_ID}/SMS_${REPORT_ID}_part00001.jsonl.gz`,
      contentType: 'application/gzip',
    });
    const zip = reportFileNaming(REPORT_ID, reportRequest({ format: 'jsonl', compression: 'zip', account_id: 'acme.uk' }));
    expect(splitFileNaming(zip, 2)).toEqual({
      name: `SMS_${REPORT_ID}_part00002.zip`,
      key: `reports/acme.uk/${REPORT_ID}/SMS_${REPORT_ID}_part00002.zip`,
      contentType: 'application/zip',
      entryName: 'report_SMS_acme.uk_20260301_part00002.jsonl',
    });
  });
});
