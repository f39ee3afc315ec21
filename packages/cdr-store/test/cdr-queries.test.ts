import pg from 'pg';
import type { ReportRequest } from '@cdr-reports/domain';
import { exportCopySql, summarySql, type TimeRange } from '@cdr-reports/cdr-store';
import { reportRequest } from '@cdr-reports/testing';

const RANGE: TimeRange = { from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-03-02T00:00:00Z') };

const request = (changes: Partial<ReportRequest> = {}): ReportRequest => reportRequest({ fields: ['id', 'start_time', 'from', 'client_ref'], ...changes });

/** A literal function that records every value it is given and returns a marker that cannot occur otherwise. */
function recordingLiteral() {
  const values: string[] = [];
  const literal = (value: string) => {
    values.push(value);
    return `<L${values.length - 1}>`;
  };
  return { values, literal };
}

// Every filter at once, each value with a quote, a backslash or both where the request validation lets it.
const HOSTILE = "O'Brien \\'; DROP TABLE cdrs; --";
const ALL_FILTERS = request({
  direction: 'outbound',
  status: ['delivered', 'read'],
  from: '+44*',
  to: '+447700900123',
  country: 'GB',
  network: "234'15",
  hangup_cause: "NORMAL'CLEARING",
  client_ref: HOSTILE,
  min_duration: 30,
});

describe('exportCopySql', () => {
  it('passes every request value through the literal function and inlines nothing raw', () => {
    const { values, literal } = recordingLiteral();
    const sql = exportCopySql(ALL_FILTERS, ['acme'], RANGE, literal, true);
    expect(values).toEqual(
      expect.arrayContaining([
        'acme',
        'SMS',
        RANGE.from.toISOString(),
        RANGE.to.toISOString(),
        'outbound',
        'delivered',
        'read',
        '+44',
        '+447700900123',
        'GB',
        "234'15",
        "NORMAL'CLEARING",
        HOSTILE,
      ]),
    );
    // No value reaches the SQL but through its marker.
    for (const value of [HOSTILE, "234'15", "NORMAL'CLEARING", '+447700900123', 'delivered', 'outbound']) expect(sql).not.toContain(value);
    expect(sql).toContain('"client_ref" = <L');
    expect(sql).toContain('duration >= 30');
  });

  it("with the driver's escapeLiteral, a quote and a backslash stay inside the string literal", () => {
    const sql = exportCopySql(ALL_FILTERS, ['acme'], RANGE, pg.escapeLiteral, false);
    // Quotes doubled, backslashes doubled in an E'' literal: the value cannot end the string early.
    expect(sql).toMatch(/"client_ref" = +E'O''Brien \\\\''; DROP TABLE cdrs; --' AND /);
    expect(sql).toContain(`"network" = '234''15'`);
    // Outside the literals, the statement is exactly one COPY: strip every literal and no stray quote or statement is left.
    const outside = sql.replace(/E?'(?:[^'\\]|''|\\.)*'/g, 'L');
    expect(outside).not.toMatch(/DROP|;/);
    expect(outside).toMatch(/^COPY \(SELECT [\s\S]+\) TO STDOUT WITH \(FORMAT csv, HEADER false\)$/);
  });

  it('writes the requested columns in the requested order, then orders rows by start_time and id', () => {
    const sql = exportCopySql(request({ fields: ['to', 'price', 'id', 'message_body', 'start_time'] }), ['acme'], RANGE, pg.escapeLiteral, true);
    // Raw values (csv-rendering.ts finishes timestamps and escaping), named as the columns in the header.
    expect(sql).toMatch(/^COPY \(SELECT c\."to", c\."price", c\."id", c\."message_body", c\."start_time"\nFROM /);
    expect(sql).toMatch(/ORDER BY c\.start_time, c\.id\) TO STDOUT WITH \(FORMAT csv, HEADER true\)$/);
  });

  it('turns a from/to ending with * into a prefix match and any other value into an exact match', () => {
    const sql = exportCopySql(request({ from: 'ACME*', to: '+4477' }), ['acme'], RANGE, pg.escapeLiteral, true);
    expect(sql).toContain(`starts_with("from", 'ACME')`);
    expect(sql).toContain(`"to" = '+4477'`);
  });

  it('reads several accounts as one UNION ALL branch each, each with every filter', () => {
    const { literal, values } = recordingLiteral();
    const sql = exportCopySql(request({ country: 'GB' }), ['acme', 'acme-uk', 'acme-uk-lon'], RANGE, literal, true);
    expect(sql.match(/UNION ALL/g)).toHaveLength(2);
    expect(sql.match(/FROM cdrs WHERE/g)).toHaveLength(3);
    expect(values.filter((v) => v === 'GB')).toHaveLength(3);
    expect(values).toEqual(expect.arrayContaining(['acme', 'acme-uk', 'acme-uk-lon']));
  });

  it('refuses an unknown column and an empty account list', () => {
    expect(() => exportCopySql(request({ fields: ['id', 'nope'] }), ['acme'], RANGE, pg.escapeLiteral, true)).toThrow(/unknown column nope/);
    expect(() => exportCopySql(request(), [], RANGE, pg.escapeLiteral, true)).toThrow(/at least one account/);
  });
});

describe('summarySql', () => {
  it('filters exactly as the export does, through the literal function', () => {
    const exported = recordingLiteral();
    exportCopySql(ALL_FILTERS, ['acme', 'acme-uk'], RANGE, exported.literal, true);
    const summarised = recordingLiteral();
    const sql = summarySql(ALL_FILTERS, ['acme', 'acme-uk'], RANGE, summarised.literal);
    expect(summarised.values).toEqual(exported.values);
    expect(sql).not.toContain(HOSTILE);
    expect(sql).toContain('GROUP BY c.currency, c.status');
  });
});
