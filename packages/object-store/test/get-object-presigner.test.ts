import { S3Client } from '@aws-sdk/client-s3';
import { attachmentDisposition } from '../src/content-disposition';
import { GetObjectPresigner } from '../src/get-object-presigner';
import { createS3Client } from '../src/s3-client';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const signingDate = new Date('2026-11-22T03:04:05Z');
const keys = ['plain', 'reports/acme-1/2f0e/calls-2026-03.csv.gz', "odd/a b+c!'()*~.csv", 'unicode/été 東京.zip', 'deep/a//b/'];

describe('GetObjectPresigner', () => {
  const clients: Array<[string, S3Client]> = [
    ['an S3-compatible endpoint (path style)', createS3Client({ endpoint: 'http://127.0.0.1:4569', region: 'us-east-1', credentials })],
    ['an endpoint with a path and default port', createS3Client({ endpoint: 'https://storage.example.net', region: 'auto', credentials })],
    ['AWS S3 itself (virtual-hosted)', new S3Client({ region: 'eu-west-3', credentials })],
    ['session credentials', createS3Client({ endpoint: 'http://127.0.0.1:9000', region: 'eu-west-1', credentials: { ...credentials, sessionToken: 'FwoGZXIvYXdzE//token' } })],
  ];
  afterAll(() => clients.forEach(([, client]) => client.destroy()));

  it.each(clients)('gives the same link as the SDK presigning in full, on %s', async (_name, client) => {
    const presigner = new GetObjectPresigner(client, 'cdr-reports');
    for (const key of keys) {
      for (const contentDisposition of [undefined, attachmentDisposition('calls été.csv.gz')]) {
        const options = { expiresIn: 3_600, signingDate, ...(contentDisposition && { contentDisposition }) };
        expect(await presigner.presign(key, options)).toBe(await presigner.presignFully(key, options));
      }
    }
  });

  it('signs each link at its own time and for its own lifetime', async () => {
    const presigner = new GetObjectPresigner(clients[0]![1], 'cdr-reports');
    const url = new URL(await presigner.presign('k', { expiresIn: 259_200 }));
    expect(url.searchParams.get('X-Amz-Expires')).toBe('259200');
    const signedAt = url.searchParams.get('X-Amz-Date')!;
    const asDate = new Date(signedAt.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'));
    expect(Math.abs(asDate.getTime() - Date.now())).toBeLessThan(5_000);
  });
});
