import type { LookupAddress, LookupOptions } from 'node:dns';
import type { AddressPolicy } from '@cdr-reports/webhooks';
import { allowedAddresses, type ResolveAll, resolveAll } from './address-check';

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** Marks a DNS answer the policy refused, so that error mapping can tell it from a network failure. */
export const FORBIDDEN_ADDRESS_CODE = 'EFORBIDDENADDRESS';

/**
 * A `lookup` for http(s).Agent that hands the socket only addresses the policy allows, resolved at dial time, so
 * a host that was public when the destination was saved cannot be rebound to an internal address later. Node
 * calls it with `all: true` when it races address families; both shapes are answered. IP-literal hosts never
 * reach a lookup: callers check those themselves before connecting.
 */
export function guardedLookup(policy: AddressPolicy, resolve: ResolveAll = resolveAll) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    allowedAddresses(hostname, policy, resolve).then(
      (addresses) => {
        const wanted = options.family === 4 || options.family === 6 ? addresses.filter((a) => a.family === options.family) : addresses;
        if (wanted.length === 0) return callback(Object.assign(new Error(`${hostname} has no allowed IPv${options.family} address`), { code: 'ENOTFOUND' }), []);
        if (options.all) return callback(null, wanted);
        callback(null, wanted[0]!.address, wanted[0]!.family);
      },
      (error: Error & { retryable?: boolean }) => {
        // The DestinationError travels through the socket and the SDK as the request's cause; the code says which it was.
        const code = error.retryable === false ? FORBIDDEN_ADDRESS_CODE : 'ENOTFOUND';
        callback(Object.assign(error, { code }), []);
      },
    );
  };
}
