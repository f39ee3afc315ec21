import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import type { AddressPolicy } from './address-policy';

export type ResolveAll = (hostname: string) => Promise<LookupAddress[]>;

export const resolveAll: ResolveAll = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));

/**
 * Why a callback URL is refused, or undefined when it is acceptable: it must be http(s), carry no credentials,
 * and its host must be, or resolve only to, addresses the policy allows. IP literals in every notation are
 * covered: the WHATWG URL parser turns 2130706433, 0x7f.1 and 017700000001 into 127.0.0.1 before the check.
 */
export async function callbackUrlRefusal(url: string, policy: AddressPolicy, resolve: ResolveAll = resolveAll): Promise<string | undefined> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute http(s) URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'must use http or https';
  if (parsed.username || parsed.password) return 'must not carry credentials; authenticate callbacks by their signature';
  return hostRefusal(parsed.hostname.replace(/^\[|\]$/g, ''), policy, resolve);
}

/**
 * Why `host` (a name or an IP literal without brackets) may not be dialled, or undefined: it must be, or resolve
 * only to, addresses the policy allows. Used for callback URLs and destinations alike, when they are saved; the
 * same policy is applied again to the address actually dialled.
 */
export async function hostRefusal(host: string, policy: AddressPolicy, resolve: ResolveAll = resolveAll): Promise<string | undefined> {
  if (isIP(host)) return policy.refusal(host);
  let addresses: LookupAddress[];
  try {
    addresses = await resolve(host);
  } catch {
    return `the host ${host} does not resolve`;
  }
  if (addresses.length === 0) return `the host ${host} does not resolve`;
  for (const { address } of addresses) {
    const refusal = policy.refusal(address);
    if (refusal) return `the host ${host} resolves to ${refusal.replace(/^\S+ is/, 'an address that is')}`;
  }
  return undefined;
}
