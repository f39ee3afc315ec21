import { attachmentDisposition } from '../src';

describe('attachmentDisposition', () => {
  it('names a plain file in both parameters', () => {
    expect(attachmentDisposition('calls-2024-05.csv.gz')).toBe(
      `attachment; filename="calls-2024-05.csv.gz"; filename*=UTF-8''calls-2024-05.csv.gz`,
    );
  });

  it('keeps the exact name in filename* and an ASCII stand-in in filename', () => {
    expect(attachmentDisposition('appels été (1).csv')).toBe(
      `attachment; filename="appels _t_ (1).csv"; filename*=UTF-8''appels%20%C3%A9t%C3%A9%20%281%29.csv`,
    );
  });

  it('cannot be broken out of by quotes or backslashes', () => {
    const value = attachmentDisposition('a"b\\c;d.csv');
    expect(value).toBe(`attachment; filename="a_b_c;d.csv"; filename*=UTF-8''a%22b%5Cc%3Bd.csv`);
  });

  it('is always a valid (ASCII) header value', () => {
    expect(attachmentDisposition('отчёт\r\n📞.csv')).toMatch(/^[\x20-\x7e]+$/);
  });
});
