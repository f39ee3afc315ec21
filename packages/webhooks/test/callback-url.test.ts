import type { LookupAddress } from 'node:dns';
import { AddressPolicy, callbackUrlRefusal, type ResolveAll } from '@cdr-reports/webhooks';

/** A resolver over a fixed table that records every name it was asked for; unknown names fail like ENOTFOUND. */
function fakeResolver(table: Record<string, string[]>): ResolveAll & { asked: string[] } {
  const asked: string[] = [];
  const resolve = async (hostname: string): Promise<LookupAddress[]> => {
    asked.push(hostname);
    const addresses = table[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolve, { asked });
}

describe('callbackUrlRefusal', () => {
  const policy = new AddressPolicy();
  const resolver = fakeResolver({
    'hooks.example.com': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
    'internal.example.com': ['10.0.0.7'],
    'metadata.example.com': ['169.254.169.254'],
    // One public and one private address: the private one could be dialled, so the name is refused.
    'mixed.example.com': ['93.184.215.14', '192.168.1.20'],
    'mapped.example.com': ['::ffff:127.0.0.1'],
    'ula.example.com': ['fd00::5'],
    'localhost': ['127.0.0.1', '::1'],
    'empty.example.com': [],
  });

  it('accepts a public http(s) URL whose name resolves only to public addresses', async () => {
    expect(await callbackUrlRefusal('https://hooks.example.com/cdr?x=1', policy, resolver)).toBeUndefined();
    expect(await callbackUrlRefusal('http://93.184.215.14:8080/hook', policy, resolver)).toBeUndefined();
    expect(await callbackUrlRefusal('http://[2606:4700:4700::1111]/hook', policy, resolver)).toBeUndefined();
  });

  it.each([
    'http://internal.example.com/hook',
    'http://metadata.example.com/latest/meta-data/',
    'http://mixed.example.com/',
    'http://mapped.example.com/',
    'http://ula.example.com/',
    'http://localhost:8080/',
  ])('refuses %s: its name resolves to a private address', async (url) => {
    expect(await callbackUrlRefusal(url, policy, resolver)).toMatch(/resolves to an address that is a private, loopback/);
  });

  it.each([
    'http://127.0.0.1/',
    'http://2130706433/',
    'http://0x7f.1/',
    'http://0x7f000001/',
    'http://017700000001/',
    'http://0177.0.0.1/',
    'http://127.1/',
    'http://0/',
    'http://0.0.0.0/',
    'http://[::]/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://[::ffff:a9fe:a9fe]/',
    'http://169.254.169.254/latest/meta-data/',
    'http://100.64.0.1/',
    'http://224.0.0.1/',
    'http://240.0.0.1/',
    'http://[fd00::1]/',
    'http://[fe80::1]/',
    'https://10.0.0.1:8443/',
    'https://172.16.5.4/',
    'https://192.168.0.10/',
  ])('refuses the IP literal %s without asking DNS', async (url) => {
    const before = resolver.asked.length;
    expect(await callbackUrlRefusal(url, policy, resolver)).toMatch(/private, loopback, link-local, multicast or reserved/);
    expect(resolver.asked.length).toBe(before);
  });

  it('refuses names that do not resolve, or resolve to nothing', async () => {
    expect(await callbackUrlRefusal('http://nowhere.example.com/', policy, resolver)).toMatch(/does not resolve/);
    expect(await callbackUrlRefusal('http://empty.example.com/', policy, resolver)).toMatch(/does not resolve/);
  });

  it('refuses other schemes, credentials and what is not a URL', async () => {
    expect(await callbackUrlRefusal('ftp://hooks.example.com/', policy, resolver)).toMatch(/http or https/);
    expect(await callbackUrlRefusal('file:///etc/passwd', policy, resolver)).toMatch(/http or https/);
    expect(await callbackUrlRefusal('https://user:pass@hooks.example.com/', policy, resolver)).toMatch(/credentials/);
    expect(await callbackUrlRefusal('not a url', policy, resolver)).toMatch(/absolute http\(s\) URL/);
  });

  it('accepts private targets inside CALLBACK_ALLOWED_NETWORKS, and only those', async () => {
    const allowing = new AddressPolicy(['10.0.0.0/8', 'fd00::/8']);
    expect(await callbackUrlRefusal('http://internal.example.com/', allowing, resolver)).toBeUndefined();
    expect(await callbackUrlRefusal('http://ula.example.com/', allowing, resolver)).toBeUndefined();
    expect(await callbackUrlRefusal('http://10.20.30.40/', allowing, resolver)).toBeUndefined();
    expect(await callbackUrlRefusal('http://mixed.example.com/', allowing, resolver)).toBeDefined();
    expect(await callbackUrlRefusal('http://localhost/', allowing, resolver)).toBeDefined();
  });
});
