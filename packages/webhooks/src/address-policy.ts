import { BlockList, isIP } from 'node:net';

/**
 * Which addresses callbacks may reach. Everything that is not a public unicast address is refused:
 * loopback, private, link-local (cloud metadata at 169.254.169.254), CGNAT, multicast, reserved,
 * unspecified, documentation, IPv6 ULA and link-local, and IPv4 addresses in IPv6 clothing
 * (IPv4-mapped, IPv4-compatible, NAT64) are judged as the IPv4 address they carry.
 * `allowedNetworks` (CIDRs, from CALLBACK_ALLOWED_NETWORKS) re-admits chosen ranges.
 */
export class AddressPolicy {
  private readonly blocked = new BlockList();
  private readonly allowed = new BlockList();

  constructor(allowedNetworks: readonly string[] = []) {
    for (const [network, prefix] of BLOCKED_IPV4) this.blocked.addSubnet(network, prefix, 'ipv4');
    for (const [network, prefix] of BLOCKED_IPV6) this.blocked.addSubnet(network, prefix, 'ipv6');
    for (const cidr of allowedNetworks) {
      const [network, prefix] = cidr.split('/');
      const family = isIP(network ?? '');
      if (family === 0 || prefix === undefined) throw new Error(`not a CIDR network: ${cidr}`);
      this.allowed.addSubnet(network!, Number(prefix), family === 6 ? 'ipv6' : 'ipv4');
    }
  }

  /** Why `address` may not be dialled, or undefined when it may. */
  refusal(address: string): string | undefined {
    const normalized = normalizeAddress(address);
    if (!normalized) return `"${address}" is not an IP address`;
    const type = normalized.family === 4 ? 'ipv4' : 'ipv6';
    if (this.allowed.check(normalized.address, type)) return undefined;
    if (this.blocked.check(normalized.address, type)) {
      return `${address} is a private, loopback, link-local, multicast or reserved address`;
    }
    return undefined;
  }
}

/** An address with IPv4 carried in IPv6 unwrapped to IPv4. */
export function normalizeAddress(address: string): { address: string; family: 4 | 6 } | undefined {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return { address: bare, family: 4 };
  if (family !== 6) return undefined;
  const embedded = embeddedIPv4(bare);
  return embedded ? { address: embedded, family: 4 } : { address: bare.toLowerCase(), family: 6 };
}

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) or NAT64 (64:ff9b::) address. */
function embeddedIPv4(address: string): string | undefined {
  const groups = expandIPv6(address);
  if (!groups) return undefined;
  const high = groups.slice(0, 6);
  const mapped = high.slice(0, 5).every((g) => g === 0) && (high[5] === 0xffff || high[5] === 0);
  const nat64 = groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0);
  if (!mapped && !nat64) return undefined;
  // ::1 and :: are IPv6's own loopback and unspecified addresses, not IPv4-compatible ones.
  if (!nat64 && high[5] === 0 && groups[6] === 0 && (groups[7] ?? 0) <= 1) return undefined;
  const [a, b] = [groups[6]!, groups[7]!];
  return `${a >> 8}.${a & 0xff}.${b >> 8}.${b & 0xff}`;
}

/** The eight 16-bit groups of an IPv6 address (dotted IPv4 tail allowed), or undefined. */
function expandIPv6(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const parts = dotted[1]!.split('.').map(Number);
    text = `${text.slice(0, dotted.index)}${((parts[0]! << 8) | parts[1]!).toString(16)}:${((parts[2]! << 8) | parts[3]!).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  if (text.includes('::') ? missing < 1 : missing !== 0) return undefined;
  const groups = [...headGroups, ...Array<string>(text.includes('::') ? missing : 0).fill('0'), ...tailGroups].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

const BLOCKED_IPV4: readonly [string, number][] = [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];

const BLOCKED_IPV6: readonly [string, number][] = [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments (Teredo, ...)
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
];
