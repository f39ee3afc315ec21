import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { DestinationError, type DestinationConnection, type DestinationOptions, type DestinationSession, type DestinationStep, type DestinationTestResult } from './destination.port';
import { openDestination } from './open-destination';

/**
 * Checks a destination the way reports will use it: connects, writes a small probe file at the root, reads it
 * back and compares, deletes it. Never throws: every outcome is a result, with the step that failed.
 */
export async function testDestination(connection: DestinationConnection, options: DestinationOptions): Promise<DestinationTestResult> {
  const key = `.cdr-reports-probe-${randomBytes(8).toString('hex')}`;
  const content = Buffer.from(`cdr-reports destination probe ${new Date().toISOString()} ${randomBytes(16).toString('hex')}\n`);
  let step: DestinationStep = 'connect';
  let session: DestinationSession | undefined;
  let written = false;
  try {
    session = await openDestination(connection, options);
    step = 'write';
    await session.write(key, Readable.from([content]), { contentType: 'text/plain' });
    written = true;
    step = 'read';
    const read = Buffer.concat(await (await session.read(key)).toArray());
    if (!read.equals(content)) {
      return { ok: false, step: 'read', error: `the probe file read back differs from what was written (${read.length} bytes instead of ${content.length})`, retryable: false };
    }
    step = 'delete';
    await session.delete(key);
    written = false;
    return { ok: true };
  } catch (error) {
    if (error instanceof DestinationError) return { ok: false, step: error.step, error: error.message, retryable: error.retryable };
    return { ok: false, step, error: error instanceof Error ? error.message : String(error), retryable: true };
  } finally {
    // A probe that was written but not read back or deleted is removed as well as can be.
    if (session && written) await session.delete(key).catch(() => undefined);
    await session?.close().catch(() => undefined);
  }
}
