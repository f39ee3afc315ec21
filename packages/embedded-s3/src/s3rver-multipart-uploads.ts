import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type S3rver from 's3rver';

/*
 * Why this exists: s3rver 3.7.1 keeps each unfinished multipart upload in a folder of its own, but answers
 * ListMultipartUploads with 501 and AbortMultipartUpload with 405. Without them a crashed upload's parts
 * could neither be found nor removed on the embedded server, and the code that removes them on real S3
 * could not be tested against it. Its CompleteMultipartUpload checks nothing (a missing part, a wrong ETag,
 * a 1-byte middle part all pass, where S3 refuses them) and hashes the whole object again while the client
 * waits: seconds at the end of every large report. This adds or replaces the three operations, as S3
 * documents them, on s3rver's own folders:
 *   GET    /{bucket}?uploads[&prefix=P]    -> ListMultipartUploadsResult (at most 1,000, as S3 pages)
 *   DELETE /{bucket}/{key}?uploadId=ID      -> 204, or 404 NoSuchUpload
 *   PUT    /{bucket}/{key}?partNumber=N&uploadId=ID with x-amz-copy-source[-range] (UploadPartCopy)
 *                                           -> CopyPartResult; 404 NoSuchKey or NoSuchUpload; 400 for a bad range
 *   POST   /{bucket}/{key}?uploadId=ID      -> CompleteMultipartUploadResult with S3's multipart ETag
 *                                              (MD5 of the parts' MD5s, "-" and their number); 400 InvalidPart,
 *                                              InvalidPartOrder, EntityTooSmall or MalformedXML; 404 NoSuchUpload
 * Everything else goes on to s3rver untouched.
 */

const MAX_UPLOADS = 1000;
/** S3's least size of every part but the last. */
const MIN_PART_BYTES = 5 * 1024 * 1024;

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
    if (ctx.method === 'PUT' && key !== '' && typeof ctx.query.uploadId === 'string' && typeof ctx.query.partNumber === 'string' && ctx.headers['x-amz-copy-source'] !== undefined) {
      return copyPart(ctx, server, bucket, key, ctx.query.uploadId, ctx.query.partNumber);
    }
    if (ctx.method === 'POST' && key !== '' && typeof ctx.query.uploadId === 'string') {
      return completeUpload(ctx, server, bucket, key, ctx.query.uploadId);
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
  const uploadFolder = await findUpload(folder, key, uploadId);
  if (!uploadFolder) return noSuchUpload(ctx, uploadId);
  await rm(uploadFolder, { recursive: true, force: true });
  ctx.status = 204;
}

/** The folder of an unfinished upload of `key`, or undefined when there is none. */
async function findUpload(uploadsFolder: string, key: string, uploadId: string): Promise<string | undefined> {
  const folder = path.join(uploadsFolder, path.basename(uploadId));
  const storedKey = await readFile(path.join(folder, 'key'), 'utf8').catch(() => undefined);
  return storedKey === key ? folder : undefined;
}

/**
 * UploadPartCopy: the part is a copy of the source object's file, or of the byte range
 * `x-amz-copy-source-range: bytes=first-last` of it, with its MD5 as ETag.
 */
async function copyPart(ctx: S3rver.Context, server: S3rver, bucket: string, key: string, uploadId: string, partNumber: string): Promise<void> {
  const number = Number(partNumber);
  if (!Number.isInteger(number) || number < 1 || number > 10_000) {
    return s3Error(ctx, 400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive.');
  }
  const uploadFolder = await findUpload(server.store.getResourcePath(bucket, undefined, 'uploads'), key, uploadId);
  if (!uploadFolder) return noSuchUpload(ctx, uploadId);
  const source = decodeURIComponent(String(ctx.headers['x-amz-copy-source']).split('?')[0]!).replace(/^\//, '');
  const [sourceBucket, ...sourceKey] = source.split('/');
  const sourcePath = server.store.getResourcePath(sourceBucket!, sourceKey.join('/'), 'object');
  const sourceStat = await stat(sourcePath).catch(() => undefined);
  if (!sourceStat) return s3Error(ctx, 404, 'NoSuchKey', 'The specified key does not exist.', `<Key>${xml(sourceKey.join('/'))}</Key>`);
  const rangeHeader = ctx.headers['x-amz-copy-source-range'];
  let range: { start: number; end: number } | undefined;
  if (rangeHeader !== undefined) {
    const match = /^bytes=(\d+)-(\d+)$/.exec(String(rangeHeader));
    range = match ? { start: Number(match[1]), end: Number(match[2]) } : undefined;
    if (!range || range.start > range.end || range.end >= sourceStat.size) {
      return s3Error(ctx, 400, 'InvalidArgument', `The x-amz-copy-source-range value must be bytes=first-last within the object's ${sourceStat.size} bytes.`);
    }
  }

  const partPath = path.join(uploadFolder, String(number));
  const hash = createHash('md5');
  const reader = createReadStream(sourcePath, range);
  reader.on('data', (chunk) => hash.update(chunk));
  await pipeline(reader, createWriteStream(partPath));
  const md5 = hash.digest('hex');
  await writeFile(`${partPath}.md5`, md5);
  ctx.type = 'application/xml';
  ctx.body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<CopyPartResult><LastModified>${sourceStat.mtime.toISOString()}</LastModified>` +
    `<ETag>&quot;${md5}&quot;</ETag></CopyPartResult>`;
}

/**
 * CompleteMultipartUpload: checks the listed parts as S3 does, writes them one after the other into the
 * object (no second hash of the whole: the ETag is S3's, from the parts' own MD5s), then its metadata.
 */
async function completeUpload(ctx: S3rver.Context, server: S3rver, bucket: string, key: string, uploadId: string): Promise<void> {
  const uploadFolder = await findUpload(server.store.getResourcePath(bucket, undefined, 'uploads'), key, uploadId);
  if (!uploadFolder) return noSuchUpload(ctx, uploadId);

  const listed = [...(await readBody(ctx)).matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((match) => ({
    number: Number(/<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(match[1]!)?.[1]),
    etag: (/<ETag>([\s\S]*?)<\/ETag>/.exec(match[1]!)?.[1] ?? '').replace(/&quot;|"/g, '').trim(),
  }));
  if (listed.length === 0 || listed.some((part) => !Number.isInteger(part.number))) {
    return s3Error(ctx, 400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
  }
  if (listed.some((part, index) => index > 0 && part.number <= listed[index - 1]!.number)) {
    return s3Error(ctx, 400, 'InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.');
  }
  const parts: Array<{ file: string; md5: string; size: number }> = [];
  for (const [index, part] of listed.entries()) {
    const file = path.join(uploadFolder, String(part.number));
    const md5 = await readFile(`${file}.md5`, 'utf8').catch(() => undefined);
    if (md5 === undefined || md5.trim() !== part.etag) {
      return s3Error(ctx, 400, 'InvalidPart', `One or more of the specified parts could not be found or its ETag did not match: part ${part.number}.`);
    }
    const { size } = await stat(file);
    if (index < listed.length - 1 && size < MIN_PART_BYTES) {
      return s3Error(ctx, 400, 'EntityTooSmall', `Your proposed upload is smaller than the minimum allowed size: part ${part.number} has ${size} bytes.`);
    }
    parts.push({ file, md5: md5.trim(), size });
  }

  const objectPath = server.store.getResourcePath(bucket, key, 'object');
  await mkdir(path.dirname(objectPath), { recursive: true });
  const object = createWriteStream(objectPath);
  try {
    for (const part of parts) {
      for await (const chunk of createReadStream(part.file)) if (!object.write(chunk)) await once(object, 'drain');
    }
  } catch (error) {
    object.destroy();
    throw error;
  }
  await new Promise<void>((resolve, reject) => object.end((error?: Error | null) => (error ? reject(error) : resolve())));
  const partDigests = Buffer.concat(parts.map((part) => Buffer.from(part.md5, 'hex')));
  const etag = `${createHash('md5').update(partDigests).digest('hex')}-${parts.length}`;
  const metadata = { 'content-type': 'binary/octet-stream', ...(JSON.parse(await readFile(path.join(uploadFolder, 'metadata'), 'utf8')) as Record<string, string>) };
  await server.store.putMetadata(bucket, key, metadata, etag);
  await rm(uploadFolder, { recursive: true, force: true });

  ctx.type = 'application/xml';
  ctx.body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
    `<Location>${xml(`/${bucket}/${key}`)}</Location><Bucket>${xml(bucket)}</Bucket><Key>${xml(key)}</Key>` +
    `<ETag>&quot;${etag}&quot;</ETag></CompleteMultipartUploadResult>`;
}

async function readBody(ctx: S3rver.Context): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function noSuchUpload(ctx: S3rver.Context, uploadId: string): void {
  s3Error(ctx, 404, 'NoSuchUpload', 'The specified upload does not exist.', `<UploadId>${xml(uploadId)}</UploadId>`);
}

function s3Error(ctx: S3rver.Context, status: number, code: string, message: string, extra = ''): void {
  ctx.status = status;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xml(message)}</Message>${extra}</Error>`;
}

function xml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
