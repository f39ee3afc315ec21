import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { Agent } from 'undici';
import type { AddressPolicy } from './address-policy';

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A refused connection: the host resolved (at dial time) to an address the policy forbids. */
export class ForbiddenAddressError extends Error {
  readonly code = 'EFORBIDDENADDRESS';
  override name = 'ForbiddenAddressError';
}

/**
 * An undici Agent that checks every address it is about to dial, after DNS, so a host that resolved to a
 * public address when the report was created cannot be rebound to an internal one later. Node calls the
 * lookup with `all: true` (happy eyeballs); both shapes are answered. IP-literal hosts never reach a lookup:
 * the deliverer checks those itself before the request.
 */
export function createGuardedAgent(policy: AddressPolicy, options: { connectTimeoutMs?: number } = {}): Agent {
  const lookup = (hostname: string, lookupOptions: LookupOptions, callback: LookupCallback) => {
    dnsLookup(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const allowed = addresses.filter((a) => policy.refusal(a.address) === undefined);
      if (allowed.length === 0) {
        const refusal = addresses[0] ? policy.refusal(addresses[0].address) : `${hostname} has no address`;
        return callback(new ForbiddenAddressError(`refused to connect to ${hostname}: ${refusal}`), []);
      }
      if (lookupOptions.all) return callback(null, allowed);
      return callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
  return new Agent({ connect: { lookup: lookup as never, timeout: options.connectTimeoutMs ?? 10_000 } });
}
