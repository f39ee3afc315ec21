import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { builtEntry, PROJECT_ROOT } from '@cdr-reports/config';
import type { EmbeddedS3, EmbeddedS3Options } from './embedded-s3';
import { EMBEDDED_S3_CREDENTIALS } from './embedded-s3-credentials';

/**
 * The embedded server's own process is `node <builtEntry('embedded-s3')> ...embeddedS3Arguments(options)` (main.ts,
 * built into dist/). This module loads neither s3rver nor its patch of node:crypto, so a launcher can import it freely.
 */

export interface EmbeddedS3ProcessOptions extends EmbeddedS3Options {
  /** pino level of the server's own log. Default `info`. */
  logLevel?: string;
}

/** The command-line arguments of the server's process for these options (the folder made absolute). */
export function embeddedS3Arguments(options: EmbeddedS3ProcessOptions): string[] {
  return [
    '--port',
    String(options.port),
    '--directory',
    path.resolve(options.directory),
    ...(options.host !== undefined ? ['--host', options.host] : []),
    ...(options.logLevel !== undefined ? ['--log-level', options.logLevel] : []),
  ];
}

/** The options the server's process was given; throws (an ERR_PARSE_ARGS_* error or a RangeError) on bad ones. */
export function parseEmbeddedS3Arguments(argv: string[]): EmbeddedS3ProcessOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      directory: { type: 'string' },
      host: { type: 'string' },
      'log-level': { type: 'string' },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (values.port === undefined || !/^\d+$/.test(values.port) || port > 65535) {
    throw new RangeError(`--port must be a port number from 0 (any free port) to 65535, got ${values.port}`);
  }
  if (!values.directory) throw new RangeError('--directory is required: the folder that holds the buckets');
  return {
    port,
    directory: values.directory,
    ...(values.host !== undefined && { host: values.host }),
    ...(values['log-level'] !== undefined && { logLevel: values['log-level'] }),
  };
}

/** What the server process tells its launcher over IPC once it listens. */
export interface EmbeddedS3ReadyMessage {
  type: 'embedded-s3-ready';
  endpoint: string;
}

export function isReadyMessage(message: unknown): message is EmbeddedS3ReadyMessage {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'embedded-s3-ready';
}

export interface EmbeddedS3Process extends EmbeddedS3 {
  pid: number;
  /** The end of what the process printed, for failure messages. */
  readonly log: string;
}

/** How long the process may take to start listening. */
const START_TIMEOUT_MS = 30_000;
/** A process still running this long after SIGTERM is killed (its server cuts connections after 5 s). */
const STOP_TIMEOUT_MS = 15_000;

/**
 * Starts the embedded S3 server in a child process of its own (for tests and tools that want it out of their
 * process, or stop it as an outage would) and resolves once it listens. `close()` stops it with SIGTERM, as
 * a supervisor does; the process also stops by itself when this one exits (its IPC channel closes).
 */
export async function startEmbeddedS3Process(options: EmbeddedS3ProcessOptions): Promise<EmbeddedS3Process> {
  // As the apps run in their images: plain node and the built entry point.
  const child = spawn(process.execPath, [builtEntry('embedded-s3'), ...embeddedS3Arguments(options)], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.on('data', (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-8000)));
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the embedded S3 process did not start within ${START_TIMEOUT_MS} ms:\n${output}`));
    }, START_TIMEOUT_MS);
    child.on('message', (message) => {
      if (!isReadyMessage(message)) return;
      clearTimeout(timer);
      resolve(message.endpoint);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the embedded S3 process exited (code ${code}, signal ${signal}) before it listened:\n${output}`));
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  // Nothing more is expected over IPC; the channel stays open only so that the server stops with this process.
  child.channel?.unref();

  let closing: Promise<void> | undefined;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };
  return {
    endpoint,
    credentials: { ...EMBEDDED_S3_CREDENTIALS },
    pid: child.pid!,
    get log() {
      return output;
    },
    close() {
      closing ??= stop();
      return closing;
    },
  };
}
