/**
 * An import file as a stream of large text chunks: gunzipped when its first bytes are the gzip magic number
 * (whatever its name says), and decoded as strict UTF-8, so a bad byte fails the file instead of turning into
 * U+FFFD in the database.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline, type Readable } from 'node:stream';
import { TextDecoder } from 'node:util';
import { createGunzip } from 'node:zlib';

/** The content of a file cannot be read at all (corrupt gzip, invalid UTF-8): the whole file is rejected. */
export class UnreadableFileError extends Error {
  override name = 'UnreadableFileError';
}

// Large enough that per-chunk work (one await, one string join) is negligible next to per-row work; small
// enough that parsing one chunk (a few milliseconds) never keeps the event loop from feeding COPY for long.
const CHUNK_BYTES = 256 * 1024;

/** True when the file starts with the gzip magic bytes 1f 8b. */
export async function isGzipFile(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/**
 * The file's text in chunks of about 256 KiB. A byte order mark is kept for the parser to drop.
 * Throws UnreadableFileError for corrupt or truncated gzip data and for bytes that are not UTF-8.
 */
export async function* readTextChunks(path: string, gzip: boolean): AsyncGenerator<string> {
  const file = createReadStream(path, { highWaterMark: CHUNK_BYTES });
  const bytes: Readable = gzip ? pipeline(file, createGunzip({ chunkSize: CHUNK_BYTES }), () => undefined) : file;
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  try {
    for await (const chunk of bytes) yield decode(decoder, chunk as Buffer);
    yield decode(decoder, undefined);
  } catch (error) {
    if (isZlibError(error)) throw new UnreadableFileError(`the gzip data is corrupt or truncated (${(error as Error).message})`);
    throw error;
  } finally {
    bytes.destroy();
  }
}

function decode(decoder: TextDecoder, chunk: Buffer | undefined): string {
  try {
    return chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true });
  } catch {
    throw new UnreadableFileError('the file is not valid UTF-8');
  }
}

function isZlibError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('Z_');
}
