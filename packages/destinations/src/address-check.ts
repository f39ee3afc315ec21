import type { LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { hostRefusal, resolveAll, type AddressPolicy, type ResolveAll } from '@cdr-reports/webhooks';
import { DestinationError, type DestinationConnection } from './destination.port';

export { resolveAll, type ResolveAll };

/** The host name or IP literal a connection dials, without brackets; throws a RangeError for an unusable S3 endpoint. */
export function destinationHost(connection: DestinationConnection): string {
  if (connection.type === 'sftp') return connection.sftp.host.replace(/^\[|\]$/g, '');
  const { endpoint, region } = connection.s3;
  // The regional host; the bucket's virtual host (bucket.s3.region...) is AWS's too, and is checked when dialled.
  if (endpoint === undefined || endpoint === '') return `s3.${region}.amazonaws.com`;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new RangeError(`the S3 endpoint is not an absolute URL: ${endpoint}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RangeError(`the S3 endpoint must use http or https: ${endpoint}`);
  return url.hostname.replace(/^\[|\]$/g, '');
}

/**
 * The address check done when a destination is saved: its host must be, or resolve only to, addresses the
 * policy allows. A reason for the customer, or undefined when it may be saved. The same check runs again on
 * every connection (see allowedAddresses and guardedLookup), since DNS may answer differently by then.
 */
export async function destinationAddressRefusal(connection: DestinationConnection, policy: AddressPolicy, resolve: ResolveAll = resolveAll): Promise<string | undefined> {
  let host: string;
  try {
    host = destinationHost(connection);
  } catch (error) {
    return (error as Error).message;
  }
  if (host === '') return 'the host is empty';
  return hostRefusal(host, policy, resolve);
}

/**
 * The addresses of `host` the policy allows, resolved now, for a connection about to be made to one of them.
 * Rejects with a DestinationError at step 'connect': not retryable when every address is forbidden, retryable
 * when the name does not resolve (DNS may be down for a moment).
 */
export async function allowedAddresses(host: string, policy: AddressPolicy, resolve: ResolveAll = resolveAll): Promise<LookupAddress[]> {
  if (isIP(host)) {
    const refusal = policy.refusal(host);
    if (refusal) throw forbidden(host, refusal);
    return [{ address: host, family: isIP(host) }];
  }
  let addresses: LookupAddress[];
  try {
    addresses = await resolve(host);
  } catch (error) {
    throw new DestinationError('connect', `the host ${host} does not resolve: ${(error as Error).message}`, { retryable: true, cause: error });
  }
  const allowed = addresses.filter((a) => policy.refusal(a.address) === undefined);
  if (allowed.length === 0) {
    throw forbidden(host, addresses[0] ? policy.refusal(addresses[0].address)! : `${host} has no address`);
  }
  return allowed;
}

export function forbidden(host: string, refusal: string): DestinationError {
  return new DestinationError('connect', `refused to connect to ${host}: ${refusal}`, { retryable: false });
}
