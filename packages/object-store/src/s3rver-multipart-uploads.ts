import { readFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type S3rver from 's3rver';

/*
 * Why this exists: s3rver 3.7.1 keeps each unfinished multipart upload in a folder of its own, but answers
 * ListMultipartUploads with 501 and AbortMultipartUpload with 405. Without them a crashed upload's parts
 * could neither be found nor removed on the embedded server, and the code that removes them on real S3
 * could not be tested against it. This adds both operations, as S3 documents them, on s3rver's own folders:
 *   GET    /{bucket}?uploads[&prefix=P]    -> ListMultipartUploadsResult (at most 1,000, as S3 pages)
 *   DELETE /{bucket}/{key}?uploadId=ID      -> 204, or 404 NoSuchUpload
 * Everything else goes on to s3rver untouched.
 */

const MAX_UPLOADS = 1000;

interface UploadEntry {
  key: string;
  uploadId: string;
  initiated: Date;
}

/** Adds the two operations to `server`; call before `run()`. */
export function addMultipartUploadOperations(server: S3rver): void {
  const uploadsFolder = (bucket: string) => server.store.getResourcePath(bucket, undefined, 'uploads');
  const middleware: S3rver.Middleware = async (ctx, next) => {
    const [bucket, ...keyParts] = ctx.path.split('/').slice(1);
    if (!bucket) return next();
    const key = keyParts.map((part) => decodeURIComponent(part)).join('/');
    if (ctx.method === 'GET' && key === '' && ctx.query.uploads !== undefined) {
      const prefix = typeof ctx.query.prefix === 'string' ? ctx.query.prefix : '';
      return listUploads(ctx, bucket, prefix, await readUploads(uploadsFolder(bucket)));
    }
    if (ctx.method === 'DELETE' && key !== '' && typeof ctx.query.uploadId === 'string') {
      return abortUpload(ctx, uploadsFolder(bucket), key, ctx.query.uploadId);
    }
    return next();
  };
  // Before s3rver's router, which is the last middleware its constructor installs.
  server.middleware.splice(server.middleware.length - 1, 0, middleware);
}

async function readUploads(folder: string): Promise<UploadEntry[]> {
  let ids: string[];
  try {
    ids = await readdir(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const entries: UploadEntry[] = [];
  for (const uploadId of ids) {
    try {
      const key = await readFile(path.join(folder, uploadId, 'key'), 'utf8');
      entries.push({ key, uploadId, initiated: (await stat(path.join(folder, uploadId))).mtime });
    } catch {
      // completed or aborted meanwhile
    }
  }
  return entries.sort((a, b) => (a.key === b.key ? a.uploadId.localeCompare(b.uploadId) : a.key < b.key ? -1 : 1));
}

function listUploads(ctx: S3rver.Context, bucket: string, prefix: string, all: UploadEntry[]): void {
  const matching = all.filter((upload) => upload.key.startsWith(prefix));
  const page = matching.slice(0, MAX_UPLOADS);
  const uploads = page
    .map(
      (upload) =>
        `<Upload><Key>${xml(upload.key)}</Key><UploadId>${xml(upload.uploadId)}</UploadId>` +
        `<Initiated>${upload.initiated.toISOString()}</Initiated><StorageClass>STANDARD</StorageClass></Upload>`,
    )
    .join('');
  ctx.type = 'application/xml';
  ctx.body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
    `<Bucket>${xml(bucket)}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><Prefix>${xml(prefix)}</Prefix>` +
    `<MaxUploads>${MAX_UPLOADS}</MaxUploads><IsTruncated>${matching.length > page.length}</IsTruncated>${uploads}</ListMultipartUploadsResult>`;
}

async function abortUpload(ctx: S3rver.Context, folder: string, key: string, uploadId: string): Promise<void> {
  const uploadFolder = path.join(folder, path.basename(uploadId));
  const storedKey = await readFile(path.join(uploadFolder, 'key'), 'utf8').catch(() => undefined);
  if (storedKey !== key) {
    ctx.status = 404;
    ctx.type = 'application/xml';
    ctx.body =
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code>` +
      `<Message>The specified upload does not exist.</Message><UploadId>${xml(uploadId)}</UploadId></Error>`;
    return;
  }
  await rm(uploadFolder, { recursive: true, force: true });
  ctx.status = 204;
}

function xml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
