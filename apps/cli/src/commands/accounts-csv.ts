import { CsvParser } from '@cdr-reports/cdr-store';
import type { AccountImportRow } from '@cdr-reports/db';

export interface AccountsCsv {
  rows: AccountImportRow[];
  /** Lines that are not rows of id,name,parent_id (the header, a field count, an open quote). */
  problems: { line: number; reason: string }[];
}

const HEADER = ['id', 'name', 'parent_id'];

/**
 * Reads an accounts file: a header `id,name,parent_id`, then one account a line (parent_id empty for a
 * top-level account). RFC 4180 quoting is understood (a name may hold commas, quotes or line breaks); each row
 * keeps the line it starts on, for error messages. Blank lines are skipped.
 */
export function parseAccountsCsv(text: string): AccountsCsv {
  const rows: AccountImportRow[] = [];
  const problems: AccountsCsv['problems'] = [];
  const records = splitRecords(text, problems);
  const header = records.shift();
  if (!header || header.fields.map((f) => f.trim().toLowerCase()).join(',') !== HEADER.join(',')) {
    problems.push({ line: header?.line ?? 1, reason: `the first line must be the header ${HEADER.join(',')}` });
    return { rows, problems };
  }
  for (const record of records) {
    if (record.fields.length === 1 && record.fields[0]!.trim() === '') continue;
    if (record.fields.length !== 3) {
      problems.push({ line: record.line, reason: `has ${record.fields.length} field(s); a row is id,name,parent_id` });
      continue;
    }
    const [id, name, parent] = record.fields.map((f) => f.trim()) as [string, string, string];
    rows.push({ line: record.line, id, name, ...(parent !== '' && { parentId: parent }) });
  }
  return { rows, problems };
}

/** Every record of `text` with the line it starts on, through the CDR importer's RFC 4180 parser. */
function splitRecords(text: string, problems: AccountsCsv['problems']): { line: number; fields: string[] }[] {
  const records: { line: number; fields: string[] }[] = [];
  const parser = new CsvParser({
    record: (fields, line) => records.push({ line, fields }),
    malformed: (line, reason) => problems.push({ line, reason }),
  });
  parser.push(text);
  parser.end();
  return records;
}
