import { AddressPolicy, normalizeAddress } from '@cdr-reports/webhooks';

describe('AddressPolicy without allowed networks', () => {
  const policy = new AddressPolicy();

  // Both ends of each range, and a neighbour just outside where the range has a public neighbour.
  const refused: [range: string, addresses: string[]][] = [
    ['loopback 127/8', ['127.0.0.1', '127.255.255.254', '127.1.2.3']],
    ['private 10/8', ['10.0.0.0', '10.0.0.1', '10.255.255.255']],
    ['private 172.16/12', ['172.16.0.0', '172.16.0.1', '172.31.255.255']],
    ['private 192.168/16', ['192.168.0.1', '192.168.255.255']],
    ['link-local 169.254/16 and cloud metadata', ['169.254.0.1', '169.254.169.254', '169.254.255.255']],
    ['CGNAT 100.64/10', ['100.64.0.0', '100.64.0.1', '100.127.255.255']],
    ['multicast 224/4', ['224.0.0.1', '239.255.255.250']],
    ['reserved 240/4 and broadcast', ['240.0.0.1', '255.255.255.254', '255.255.255.255']],
    ['unspecified / this network 0/8', ['0.0.0.0', '0.1.2.3']],
    ['documentation and benchmarking', ['192.0.2.1', '198.51.100.1', '203.0.113.1', '198.18.0.1', '198.19.255.255']],
    ['IPv6 loopback and unspecified', ['::1', '::', '0:0:0:0:0:0:0:1', '0000:0000:0000:0000:0000:0000:0000:0000']],
    ['IPv6 unique local fc00::/7', ['fd00::1', 'fd12:3456:789a::1', 'fc00::1', 'FD00::ABCD']],
    ['IPv6 link-local fe80::/10', ['fe80::1', 'fe80::1%eth0', 'febf:ffff::1']],
    ['IPv6 multicast ff00::/8', ['ff02::1', 'ff05::1:3']],
    ['IPv6 documentation, 6to4, Teredo', ['2001:db8::1', '2002:7f00:1::1', '2001:0:4136:e378::1']],
    ['IPv4-mapped IPv6 of private addresses', ['::ffff:127.0.0.1', '::ffff:7f00:1', '::FFFF:7F00:0001', '::ffff:10.0.0.1', '::ffff:a9fe:a9fe', '0:0:0:0:0:ffff:c0a8:0101']],
    ['IPv4-compatible and NAT64 forms of private addresses', ['::127.0.0.1', '::7f00:1', '64:ff9b::7f00:1', '64:ff9b::10.1.2.3', '64:ff9b::169.254.169.254']],
    ['bracketed literals', ['[::1]', '[::ffff:127.0.0.1]', '[fd00::1]']],
  ];

  it.each(refused)('refuses %s', (_range, addresses) => {
    for (const address of addresses) {
      expect({ address, refusal: policy.refusal(address) }).toEqual({ address, refusal: expect.stringMatching(/private, loopback, link-local, multicast or reserved/) });
    }
  });

  it('accepts public unicast addresses, v4 and v6, including the neighbours of the blocked ranges', () => {
    const publicAddresses = [
      '8.8.8.8',
      '1.1.1.1',
      '93.184.215.14',
      '9.255.255.255',
      '11.0.0.0',
      '100.63.255.255',
      '100.128.0.0',
      '126.255.255.255',
      '128.0.0.0',
      '169.253.255.255',
      '169.255.0.0',
      '172.15.255.255',
      '172.32.0.0',
      '192.167.255.255',
      '192.169.0.0',
      '223.255.255.255',
      '2606:4700:4700::1111',
      '2a00:1450:4001:80b::200e',
      '::ffff:8.8.8.8',
      '64:ff9b::808:808',
      'fbff:ffff::1',
      'fe00::1', // fe00::/9 lies between unique local and link-local and is not blocked
    ];
    for (const address of publicAddresses) expect({ address, refusal: policy.refusal(address) }).toEqual({ address, refusal: undefined });
  });

  it('refuses what is not an IP address at all', () => {
    for (const text of ['localhost', 'example.com', '1.2.3', '256.1.1.1', '::ffff:999.1.1.1', '', '1.2.3.4.5']) {
      expect(policy.refusal(text)).toMatch(/is not an IP address/);
    }
  });
});

describe('AddressPolicy with allowed networks', () => {
  it('re-admits an allowed IPv4 range and nothing next to it', () => {
    const policy = new AddressPolicy(['127.0.0.0/8', '10.1.0.0/16']);
    for (const address of ['127.0.0.1', '127.255.255.255', '::ffff:127.0.0.1', '::ffff:7f00:1', '10.1.2.3']) expect(policy.refusal(address)).toBeUndefined();
    // IPv6 loopback is not in an IPv4 network; the rest of 10/8 stays private.
    for (const address of ['::1', '10.2.0.1', '192.168.1.1', '169.254.169.254']) expect(policy.refusal(address)).toBeDefined();
  });

  it('re-admits an allowed IPv6 range (CIDR)', () => {
    const policy = new AddressPolicy(['fd00:1234::/32', '::1/128']);
    for (const address of ['fd00:1234::1', 'fd00:1234:ffff::2', '::1', '[::1]']) expect(policy.refusal(address)).toBeUndefined();
    for (const address of ['fd00:1235::1', 'fe80::1', '127.0.0.1']) expect(policy.refusal(address)).toBeDefined();
  });

  it('refuses a malformed network at construction', () => {
    expect(() => new AddressPolicy(['127.0.0.1'])).toThrow(/not a CIDR network/);
    expect(() => new AddressPolicy(['localhost/8'])).toThrow(/not a CIDR network/);
  });
});

describe('normalizeAddress', () => {
  it.each([
    ['127.0.0.1', { address: '127.0.0.1', family: 4 }],
    ['::ffff:127.0.0.1', { address: '127.0.0.1', family: 4 }],
    ['::ffff:7f00:1', { address: '127.0.0.1', family: 4 }],
    ['[::ffff:7f00:1]', { address: '127.0.0.1', family: 4 }],
    ['0:0:0:0:0:ffff:a9fe:a9fe', { address: '169.254.169.254', family: 4 }],
    ['::7f00:1', { address: '127.0.0.1', family: 4 }],
    ['64:ff9b::c0a8:101', { address: '192.168.1.1', family: 4 }],
    ['::1', { address: '::1', family: 6 }],
    ['::', { address: '::', family: 6 }],
    ['FE80::1%eth0', { address: 'fe80::1', family: 6 }],
    ['2606:4700:4700::1111', { address: '2606:4700:4700::1111', family: 6 }],
  ])('%s -> %j', (input, expected) => {
    expect(normalizeAddress(input)).toEqual(expected);
  });

  it('is undefined for what is not an address', () => {
    for (const text of ['localhost', '1.2.3', '::ffff:1.2.3.4.5', '12345::1::2', 'fe80::g']) expect(normalizeAddress(text)).toBeUndefined();
  });
});
