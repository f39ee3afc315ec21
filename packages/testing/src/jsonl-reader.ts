/**
 * Reads a JSON Lines report file back the way a customer would, with standard tools and not with the project's own
 * code: gunzip or unzip to decompress, Python's json module to parse each line. Each value comes back with the
 * JSON type Python read it as, so that a test sees a number written as a string (or the reverse).
 */
import { spawn } from 'node:child_process';
import { gunzip, unzip } from './csv-reader';

/** A JSON value of a report line as Python read it: integers as their exact digits, strings as they are. */
export type JsonCell = { type: 'null'; value: null } | { type: 'int'; value: string } | { type: 'str'; value: string } | { type: 'other'; value: string };

export interface JsonLinesContent {
  /** The file exactly as it holds it, decompressed. */
  text: Buffer;
  /** For a zip file: the names of its entries, in archive order; for gzip: empty. */
  entries: string[];
  /** One per line, in order: the object's members in the order the line writes them. */
  lines: Array<Array<{ name: string } & JsonCell>>;
}

// Lines are cut at \n bytes only (str.splitlines would also cut at U+2028, which JSON may hold raw); every line must
// be one JSON object and nothing around it (no blank line, no \r), strictly: no NaN or Infinity, no repeated member,
// and a newline after the last one.
const PYTHON_JSONL = String.raw`
import json, sys
data = sys.stdin.buffer.read()
if data and not data.endswith(b'\n'):
    sys.exit('the last line has no newline')
class Obj(list):
    pass
def no_constant(name):
    raise ValueError('not JSON: ' + name)
def cell(value):
    if value is None: return {'type': 'null', 'value': None}
    if isinstance(value, bool) or isinstance(value, float) or isinstance(value, Obj) or isinstance(value, list): return {'type': 'other', 'value': json.dumps(value)}
    if isinstance(value, int): return {'type': 'int', 'value': str(value)}
    return {'type': 'str', 'value': value}
lines = []
for number, raw in enumerate(data.split(b'\n')[:-1] if data else [], 1):
    if not (raw.startswith(b'{') and raw.endswith(b'}')):
        sys.exit('line %d is not exactly one JSON object: %r' % (number, raw[:80]))
    value = json.loads(raw.decode('utf-8', errors='strict'), parse_constant=no_constant, object_pairs_hook=Obj)
    if not isinstance(value, Obj):
        sys.exit('line %d is not a JSON object' % number)
    names = [name for name, _ in value]
    if len(set(names)) != len(names):
        sys.exit('line %d repeats a member' % number)
    lines.append([dict(name=name, **cell(member)) for name, member in value])
json.dump(lines, sys.stdout)
`;

function python(script: string, input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`python3 exited with ${code}: ${Buffer.concat(err).toString('utf8').slice(0, 2000)}`));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** Parses JSON Lines bytes (UTF-8) with Python's json module, one object per line. */
export async function parseJsonLines(text: Buffer | string): Promise<JsonLinesContent['lines']> {
  return JSON.parse((await python(PYTHON_JSONL, Buffer.from(text))).toString('utf8')) as JsonLinesContent['lines'];
}

/** Decompresses a .jsonl.gz (or a zip holding a .jsonl) with gunzip or unzip and parses it with Python. */
export async function readJsonLinesFile(file: Buffer, compression: 'gzip' | 'zip'): Promise<JsonLinesContent> {
  let text: Buffer;
  let entries: string[] = [];
  if (compression === 'gzip') text = await gunzip(file);
  else ({ entries, content: text } = await unzip(file));
  return { text, entries, lines: await parseJsonLines(text) };
}

/** The lines as plain objects: integers as numbers, strings as strings, null as null. */
export function jsonObjects(lines: JsonLinesContent['lines']): Array<Record<string, string | number | null>> {
  return lines.map((line) =>
    Object.fromEntries(
      line.map((cell) => {
        if (cell.type === 'other') throw new Error(`${cell.name} is neither a string, an integer nor null: ${cell.value}`);
        return [cell.name, cell.type === 'int' ? Number(cell.value) : cell.value];
      }),
    ),
  );
}
