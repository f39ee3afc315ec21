import { CsvParser } from '@cdr-reports/cdr-store';

type Event = { line: number; fields: string[]; raw: string } | { line: number; malformed: string; raw: string };

/** Parses `pieces` pushed one after the other and returns everything the sink saw, raw text included. */
function parse(...pieces: string[]): Event[] {
  const events: Event[] = [];
  const parser: CsvParser = new CsvParser({
    record: (fields, line) => events.push({ line, fields: [...fields], raw: parser.rawRecord() }),
    malformed: (line, reason) => events.push({ line, malformed: reason, raw: parser.rawRecord() }),
  });
  for (const piece of pieces) parser.push(piece);
  parser.end();
  return events;
}

const records = (...pieces: string[]) => parse(...pieces).map((e) => ('fields' in e ? e.fields : e.malformed));

// Every construct the parser has to get right, in one small document.
const TRICKY =
  '\uFEFFid,body,n\r\n' +
  '1,plain,10\r\n' +
  '2,"with, comma",20\n' +
  '3,"say ""hi""",30\n' +
  '4,"two\r\nlines\nand three",40\n' +
  '\n' +
  '5,,\n' +
  '6,"",""\n' +
  '7,"😀 emoji, ünïcödé",70\r\n' +
  '8,"ends with quote""",80\n' +
  '9,"a\rb",90\n' +
  '10,last,100';

const TRICKY_EVENTS: Event[] = [
  { line: 1, fields: ['id', 'body', 'n'], raw: 'id,body,n' },
  { line: 2, fields: ['1', 'plain', '10'], raw: '1,plain,10' },
  { line: 3, fields: ['2', 'with, comma', '20'], raw: '2,"with, comma",20' },
  { line: 4, fields: ['3', 'say "hi"', '30'], raw: '3,"say ""hi""",30' },
  { line: 5, fields: ['4', 'two\r\nlines\nand three', '40'], raw: '4,"two\r\nlines\nand three",40' },
  { line: 9, fields: ['5', '', ''], raw: '5,,' },
  { line: 10, fields: ['6', '', ''], raw: '6,"",""' },
  { line: 11, fields: ['7', '😀 emoji, ünïcödé', '70'], raw: '7,"😀 emoji, ünïcödé",70' },
  { line: 12, fields: ['8', 'ends with quote"', '80'], raw: '8,"ends with quote""",80' },
  { line: 13, fields: ['9', 'a\rb', '90'], raw: '9,"a\rb",90' },
  { line: 14, fields: ['10', 'last', '100'], raw: '10,last,100' },
];

describe('CsvParser', () => {
  it('parses quoting, embedded line breaks, CRLF, blank lines and a byte order mark', () => {
    expect(parse(TRICKY)).toEqual(TRICKY_EVENTS);
  });

  it('gives the same result however the input is split in two', () => {
    for (let at = 0; at <= TRICKY.length; at++) {
      expect({ at, events: parse(TRICKY.slice(0, at), TRICKY.slice(at)) }).toEqual({ at, events: TRICKY_EVENTS });
    }
  });

  it('gives the same result when fed one character at a time, or in pieces of every size', () => {
    expect(parse(...TRICKY)).toEqual(TRICKY_EVENTS);
    for (let size = 2; size < 40; size++) {
      const pieces: string[] = [];
      for (let at = 0; at < TRICKY.length; at += size) pieces.push(TRICKY.slice(at, at + size));
      expect(parse(...pieces)).toEqual(TRICKY_EVENTS);
    }
  });

  it('gives the same result at every split point of a document with malformed records', () => {
    const text = 'a,b\nx"y,1\n"ok",2\n"q"x,3\nc\rd,4\n"fine",5\n"open,6\n';
    const whole = parse(text);
    expect(whole).toEqual([
      { line: 1, fields: ['a', 'b'], raw: 'a,b' },
      { line: 2, malformed: 'a quote inside an unquoted field', raw: 'x"y,1' },
      { line: 3, fields: ['ok', '2'], raw: '"ok",2' },
      { line: 4, malformed: 'unexpected character after a closing quote', raw: '"q"x,3' },
      { line: 5, malformed: 'a carriage return outside quotes that is not part of CRLF', raw: 'c\rd,4' },
      { line: 6, fields: ['fine', '5'], raw: '"fine",5' },
      { line: 7, malformed: 'a quoted field is not closed', raw: '"open,6\n' },
    ]);
    for (let at = 0; at <= text.length; at++) expect({ at, events: parse(text.slice(0, at), text.slice(at)) }).toEqual({ at, events: whole });
  });

  it('counts physical lines across quoted line breaks in later records', () => {
    const events = parse('h\n"a\nb\nc"\nnext\n"d\r\ne"\nlast\n');
    expect(events.map((e) => e.line)).toEqual([1, 2, 5, 6, 8]);
  });

  it('handles a last record without a line end, with or without a trailing comma', () => {
    expect(records('a,b')).toEqual([['a', 'b']]);
    expect(records('a,')).toEqual([['a', '']]);
    expect(records('a,"b"')).toEqual([['a', 'b']]);
    expect(records('a,b\r\n')).toEqual([['a', 'b']]);
  });

  it('reports nothing for empty input and for blank lines only', () => {
    expect(parse('')).toEqual([]);
    expect(parse('\n\r\n\n')).toEqual([]);
    expect(parse('\uFEFF')).toEqual([]);
  });

  it('keeps a byte order mark that is not at the very start', () => {
    expect(records('a\n\uFEFFb\n')).toEqual([['a'], ['\uFEFFb']]);
  });

  it('reads a quoted field far longer than the pieces it arrives in', () => {
    const body = 'x,"\n'.repeat(50_000);
    const text = `1,"${body.replace(/"/g, '""')}",2\n3,4\n`;
    const pieces: string[] = [];
    for (let at = 0; at < text.length; at += 1000) pieces.push(text.slice(at, at + 1000));
    const events = parse(...pieces);
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ line: 1, fields: ['1', body, '2'] });
    expect(events[1]).toMatchObject({ line: 50_002, fields: ['3', '4'] });
  });

  it('reports how far it got', () => {
    const parser = new CsvParser({ record: () => undefined, malformed: () => undefined });
    parser.push('a\n"b\nc"\nd');
    expect(parser.nextLine).toBe(4);
  });
});
