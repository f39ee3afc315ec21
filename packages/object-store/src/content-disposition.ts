/**
 * A `Content-Disposition: attachment` value that makes browsers save the download as `filename`.
 * Header values must be ASCII, so the exact name goes in RFC 5987's `filename*` and a plain-ASCII
 * approximation in `filename` for clients that ignore `filename*`.
 */
export function attachmentDisposition(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
