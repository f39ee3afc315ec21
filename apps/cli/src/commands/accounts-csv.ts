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
  const records = splitRecords(text.startsWith('\ufeff') ? text.slice(1) : text, problems);
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

function splitRecords(text: string, problems: AccountsCsv['problems']): { line: number; fields: string[] }[] {
  const records: { line: number; fields: string[] }[] = [];
  let line = 1;
  let start = 1;
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const endRecord = () => {
    fields.push(field);
    records.push({ line: start, fields });
    fields = [];
    field = '';
  };
  while (i < text.length) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (char === '"') quoted = false;
      else {
        if (char === '\n') line += 1;
        field += char;
      }
      i += 1;
      continue;
    }
    if (char === '"' && field.trim() === '') {
      quoted = true;
      field = '';
    } else if (char === ',') {
      fields.push(field);
      field = '';
    } else if (char === '\n' || char === '\r') {
      endRecord();
      if (char === '\r' && text[i + 1] === '\n') i += 1;
      line += 1;
      start = line;
    } else field += char;
    i += 1;
  }
  if (quoted) problems.push({ line: start, reason: 'a quoted field is not closed' });
  if (field !== '' || fields.length > 0) endRecord();
  return records;
}
