import type { LookupAddress } from 'node:dns';
import { AddressPolicy } from '@cdr-reports/webhooks';
import { destinationAddressRefusal, type DestinationConnection } from '../src';

const s3 = (endpoint: string | undefined): DestinationConnection => ({
  type: 's3',
  s3: { ...(endpoint !== undefined && { endpoint }), region: 'eu-west-1', bucket: 'b', prefix: '', force_path_style: false, access_key_id: 'a', secret_access_key: 's' },
});
const sftp = (host: string): DestinationConnection => ({ type: 'sftp', sftp: { host, port: 22, username: 'u', password: 'p', host_key_sha256: 'x', directory: '/' } });

/** A resolver that answers from a table and records what it was asked. */
function fakeDns(table: Record<string, string[]>) {
  const asked: string[] = [];
  const resolve = async (hostname: string): Promise<LookupAddress[]> => {
    asked.push(hostname);
    const addresses = table[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { resolve, asked };
}

describe('destinationAddressRefusal', () => {
  const policy = new AddressPolicy();
  const dns = fakeDns({
    'files.example.com': ['93.184.216.34', '2606:2800:220:1::1'],
    'sneaky.example.com': ['93.184.216.34', '10.0.0.5'],
    'minio.internal': ['192.168.1.20'],
    's3.eu-west-1.amazonaws.com': ['52.218.0.1'],
  });

  it('accepts hosts that resolve only to public addresses', async () => {
    expect(await destinationAddressRefusal(sftp('files.example.com'), policy, dns.resolve)).toBeUndefined();
    expect(await destinationAddressRefusal(s3('https://files.example.com:9000'), policy, dns.resolve)).toBeUndefined();
  });

  it('checks AWS S3 regional host when there is no endpoint', async () => {
    expect(await destinationAddressRefusal(s3(undefined), policy, dns.resolve)).toBeUndefined();
    expect(dns.asked).toContain('s3.eu-west-1.amazonaws.com');
  });

  it('refuses a host with any forbidden address', async () => {
    expect(await destinationAddressRefusal(sftp('sneaky.example.com'), policy, dns.resolve)).toMatch(/sneaky.example.com resolves to an address that is a private/);
    expect(await destinationAddressRefusal(s3('http://minio.internal:9000'), policy, dns.resolve)).toMatch(/minio.internal resolves to/);
  });

  it('checks IP literals directly, in every notation, without DNS', async () => {
    const asked = dns.asked.length;
    for (const host of ['127.0.0.1', '169.254.169.254', '[::1]', '::ffff:10.0.0.1']) {
      expect(await destinationAddressRefusal(sftp(host), policy, dns.resolve)).toMatch(/loopback/);
    }
    expect(await destinationAddressRefusal(s3('http://2130706433:9000'), policy, dns.resolve)).toMatch(/127.0.0.1 is a private/);
    expect(await destinationAddressRefusal(s3('http://[fd00::1]'), policy, dns.resolve)).toMatch(/fd00::1/);
    expect(await destinationAddressRefusal(sftp('93.184.216.34'), policy, dns.resolve)).toBeUndefined();
    expect(dns.asked.length).toBe(asked);
  });

  it('re-admits the networks the policy allows', async () => {
    expect(await destinationAddressRefusal(s3('http://minio.internal:9000'), new AddressPolicy(['192.168.1.0/24']), dns.resolve)).toBeUndefined();
  });

  it('refuses hosts that do not resolve and endpoints that are not http(s) URLs', async () => {
    expect(await destinationAddressRefusal(sftp('nowhere.example.com'), policy, dns.resolve)).toBe('the host nowhere.example.com does not resolve');
    expect(await destinationAddressRefusal(sftp(''), policy, dns.resolve)).toBe('the host is empty');
    expect(await destinationAddressRefusal(s3('files.example.com'), policy, dns.resolve)).toMatch(/not an absolute URL/);
    expect(await destinationAddressRefusal(s3('ftp://files.example.com'), policy, dns.resolve)).toMatch(/must use http or https/);
  });
});
