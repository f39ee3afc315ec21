import { Client, type SFTPWrapper } from 'ssh2';
import { allowedAddresses } from './address-check';
import { DestinationError, type DestinationOptions, type SftpDestinationConfig } from './destination.port';
import { fingerprintOf, normalizeFingerprint } from './host-key';
import { toSftpConnectError } from './sftp-errors';

/** A dead server is noticed after KEEPALIVE_INTERVAL_MS x KEEPALIVE_COUNT_MAX without an answer, failing what waits on it. */
const KEEPALIVE_INTERVAL_MS = 15_000;
const KEEPALIVE_COUNT_MAX = 4;

export interface SftpConnection {
  client: Client;
  sftp: SFTPWrapper;
}

/**
 * Connects and logs in to a customer's SFTP server and opens its SFTP subsystem. The host is resolved here and
 * every address checked with the policy; the connection goes to an allowed address itself (tried in turn while
 * they are unreachable), so DNS cannot hand the socket another address than the one checked. The server must
 * present the configured host key: anything else ends the handshake before a password or key is sent.
 */
export async function connectSftp(config: SftpDestinationConfig, options: DestinationOptions): Promise<SftpConnection> {
  if (!config.password && !config.private_key) {
    throw new DestinationError('authenticate', 'the SFTP destination has neither a password nor a private key', { retryable: false });
  }
  let expected: string;
  try {
    expected = `SHA256:${normalizeFingerprint(config.host_key_sha256)}`;
  } catch (error) {
    throw new DestinationError('connect', (error as Error).message, { retryable: false });
  }
  const host = config.host.replace(/^\[|\]$/g, '');
  const addresses = await allowedAddresses(host, options.policy);
  let lastError: unknown;
  for (const { address } of addresses) {
    try {
      const client = await login(address, config, expected, options.connectTimeoutMs ?? 10_000);
      return { client, sftp: await openSftp(client, `${host}:${config.port}`) };
    } catch (error) {
      lastError = error;
      // Only an unreachable address is worth trying the next one: a refusal would be the same everywhere.
      if (!(error instanceof DestinationError && error.step === 'connect' && error.retryable)) throw error;
    }
  }
  throw lastError;
}

function login(address: string, config: SftpDestinationConfig, expectedFingerprint: string, timeoutMs: number): Promise<Client> {
  const where = `${config.host}:${config.port}`;
  const client = new Client();
  let presented: string | undefined;
  return new Promise<Client>((resolve, reject) => {
    let settled = false;
    const fail = (error: DestinationError) => {
      if (settled) return;
      settled = true;
      client.destroy();
      reject(error);
    };
    // ssh2 may emit several errors for one failure; the listener stays for the connection's whole life so that
    // none is ever unhandled. Failures after login reach each operation through its callback.
    client.on('error', (error: Error & { level?: string }) => {
      if (presented !== undefined && presented !== expectedFingerprint) {
        fail(
          new DestinationError('connect', `the SFTP server's host key does not match: expected ${expectedFingerprint}, the server at ${where} presented ${presented}`, {
            retryable: false,
            cause: error,
          }),
        );
        return;
      }
      fail(toSftpConnectError(error, where));
    });
    client.once('ready', () => {
      settled = true;
      resolve(client);
    });
    try {
      client.connect({
        host: address,
        port: config.port,
        username: config.username,
        ...(config.password ? { password: config.password } : {}),
        ...(config.private_key ? { privateKey: config.private_key } : {}),
        readyTimeout: timeoutMs,
        keepaliveInterval: KEEPALIVE_INTERVAL_MS,
        keepaliveCountMax: KEEPALIVE_COUNT_MAX,
        hostVerifier: (key: Buffer) => {
          presented = fingerprintOf(key);
          return presented === expectedFingerprint;
        },
      });
    } catch (error) {
      // ssh2 parses the private key synchronously.
      fail(new DestinationError('authenticate', `the SFTP private key cannot be used: ${(error as Error).message}`, { retryable: false, cause: error }));
    }
  });
}

function openSftp(client: Client, where: string): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => {
    client.sftp((error, sftp) => {
      if (!error) return resolve(sftp);
      client.destroy();
      reject(new DestinationError('connect', `the SFTP subsystem is not available on ${where} (${error.message})`, { retryable: false, cause: error }));
    });
  });
}
