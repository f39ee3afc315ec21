import { ExportIntegrityError } from '@cdr-reports/domain';
import { CsvRenderer, type FieldRendering } from '../src/source/csv-rendering';

/** Renders `csv` pushed in the given pieces. */
function render(fields: FieldRendering[], csv: string, options: { header?: boolean; cuts?: number[] } = {}): string {
  const renderer = new CsvRenderer(fields, options.header ?? false);
  const bytes = Buffer.from(csv);
  const cuts = [0, ...(options.cuts ?? []), bytes.length];
  const out: Buffer[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) out.push(renderer.push(bytes.subarray(cuts[i], cuts[i + 1])));
  renderer.end();
  return Buffer.concat(out).toString();
}

describe('CsvRenderer', () => {
  it('writes PostgreSQL ISO timestamps as RFC 3339 with none, 3 or 6 fraction digits and a full offset', () => {
    const cases: Array<[string, string]> = [
      ['2026-03-01 12:00:00+00', '2026-03-01T12:00:00+00:00'],
      ['2026-03-01 12:00:00.5+01', '2026-03-01T12:00:00.500+01:00'],
      ['2026-03-01 12:00:00.12-08', '2026-03-01T12:00:00.120-08:00'],
      ['2026-03-01 12:00:00.123+05:30', '2026-03-01T12:00:00.123+05:30'],
      ['2026-03-01 12:00:00.1234+05:45', '2026-03-01T12:00:00.123400+05:45'],
      ['2026-03-01 12:00:00.00001-03:30', '2026-03-01T12:00:00.000010-03:30'],
      ['2026-03-01 12:00:00.999999+13:45', '2026-03-01T12:00:00.999999+13:45'],
      // Local mean time before standard zones: the offset's seconds are dropped, as to_char's TZH:TZM does.
      ['1850-01-01 00:00:00+05:53:28', '1850-01-01T00:00:00+05:53'],
    ];
    for (const [given, expected] of cases) {
      expect(render(['plain', 'timestamp', 'plain'], `a,${given},b\n`)).toBe(`a,${expected},b\n`);
    }
  });

  it('leaves NULL timestamps empty and renders several per row, the last one ending the row', () => {
    expect(render(['timestamp', 'timestamp', 'timestamp'], '2026-03-01 12:00:00+00,,2026-03-01 12:00:01.25+00\n')).toBe(
      '2026-03-01T12:00:00+00:00,,2026-03-01T12:00:01.250+00:00\n',
    );
  });

  it('prefixes text a spreadsheet would run as a formula, inside its quotes, and leaves plain numbers alone', () => {
    const fields: FieldRendering[] = ['address', 'free-text'];
    const rows: Array<[string, string]> = [
      ['+442071838750,=HYPERLINK("x")', '+442071838750,\'=HYPERLINK("x")'],
      ['447700900123,+cmd', "447700900123,'+cmd"],
      ['=1+1,-1+2', "'=1+1,'-1+2"],
      ['+44 20,@SUM(A1)', "'+44 20,'@SUM(A1)"],
      ['-4420,"a ""quoted"", comma"', '\'-4420,"a ""quoted"", comma"'],
      ['+,"\ttab"', '\'+,"\'\ttab"'],
      ['VONAGE,"\rtwo\nlines"', 'VONAGE,"\'\rtwo\nlines"'],
      ['ACME,""', 'ACME,""'],
      [',', ','],
      ['@x,😀', "'@x,😀"],
    ];
    for (const [given, expected] of rows) expect(render(fields, `${given}\n`)).toBe(`${expected}\n`);
  });

  it('passes the header row on untouched, and rows whose fields need nothing as they are', () => {
    const csv = 'id,start_time,client_ref\n1,2026-03-01 12:00:00+00,=x\n';
    expect(render(['plain', 'timestamp', 'free-text'], csv, { header: true })).toBe('id,start_time,client_ref\n1,2026-03-01T12:00:00+00:00,\'=x\n');
    expect(render(['plain', 'plain'], 'a,b\n=c,"d\ne"\n', { header: true })).toBe('a,b\n=c,"d\ne"\n');
  });

  it('renders the same whatever the chunks: a row, a quoted field or a header cut at any byte', () => {
    const fields: FieldRendering[] = ['plain', 'timestamp', 'address', 'plain', 'free-text', 'plain'];
    const csv =
      'id,start_time,from,note,client_ref,last\n' +
      '1,2026-03-01 12:00:00.5+01,+4420,"x, ""y""",=a,z\n' +
      '2,2026-03-01 12:00:01+01,=b,,"multi\nline, =not first",\n' +
      '3,,447700,p,"",q\n';
    const whole = render(fields, csv, { header: true });
    expect(whole).toBe(
      'id,start_time,from,note,client_ref,last\n' +
        '1,2026-03-01T12:00:00.500+01:00,+4420,"x, ""y""",\'=a,z\n' +
        '2,2026-03-01T12:00:01+01:00,\'=b,,"multi\nline, =not first",\n' +
        '3,,447700,p,"",q\n',
    );
    for (let cut = 1; cut < Buffer.byteLength(csv); cut++) {
      expect(render(fields, csv, { header: true, cuts: [cut] })).toBe(whole);
      expect(render(fields, csv, { header: true, cuts: [Math.floor(cut / 2), cut] })).toBe(whole);
    }
  });

  it('finishes quoted fields after the last field that changes, even when they hold newlines and ""', () => {
    const csv = '=a,"one\n""two"",\nthree",x\n=b,y,z\n';
    expect(render(['free-text', 'plain', 'plain'], csv)).toBe('\'=a,"one\n""two"",\nthree",x\n\'=b,y,z\n');
    for (let cut = 1; cut < csv.length; cut++) expect(render(['free-text', 'plain', 'plain'], csv, { cuts: [cut] })).toBe('\'=a,"one\n""two"",\nthree",x\n\'=b,y,z\n');
  });

  it('fails on a stream cut inside a row, a row too short, or a timestamp it cannot read', () => {
    expect(() => render(['timestamp'], '2026-03-01 12:00:00+00\n2026-03')).toThrow(ExportIntegrityError);
    expect(() => render(['timestamp', 'plain'], '2026-03-01 12:00:00+00\n')).toThrow(/1 columns, not 2/);
    for (const odd of ['infinity', '10000-01-01 00:00:00+00', '2026-03-01 12:00:00+00 BC', '2026-03-01T12:00:00+00', '2026-03-01 12:00:00.+00']) {
      expect(() => render(['timestamp'], `${odd}\n`)).toThrow(/cannot render/);
    }
  });

  it('keeps long runs of rows in order across many chunks (a growing output buffer)', () => {
    const rows = Array.from({ length: 3000 }, (_, i) => `${i},2026-03-01 12:00:${String(i % 60).padStart(2, '0')}.1+00,=${i}\n`).join('');
    const expected = Array.from({ length: 3000 }, (_, i) => `${i},2026-03-01T12:00:${String(i % 60).padStart(2, '0')}.100+00:00,'=${i}\n`).join('');
    const cuts = Array.from({ length: 40 }, (_, i) => Math.floor(((i + 1) * rows.length) / 41));
    expect(render(['plain', 'timestamp', 'free-text'], rows, { cuts })).toBe(expected);
  });
});
