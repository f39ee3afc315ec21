// s3rver 3.7.1 ships no types; this declares the part of its API the embedded server uses.
declare module 's3rver' {
  import type { Server } from 'node:http';
  import type { AddressInfo } from 'node:net';

  interface S3rverOptions {
    address?: string;
    port?: number;
    directory?: string;
    silent?: boolean;
    vhostBuckets?: boolean;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
  }

  class S3rver {
    constructor(options?: S3rverOptions);
    httpServer?: Server;
    /** Koa's middleware list; composed when the server starts. */
    middleware: S3rver.Middleware[];
    store: {
      getResourcePath(bucket: string, key: string | undefined, resource: string): string;
      putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
    };
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  }

  namespace S3rver {
    /** The part of a Koa context the embedded server's additions use (s3rver is a Koa application). */
    export interface Context {
      method: string;
      /** The raw request (its body not yet read). */
      req: import('node:http').IncomingMessage;
      /** The request path, still URL-encoded. */
      path: string;
      query: Record<string, string | string[] | undefined>;
      headers: Record<string, string | string[] | undefined>;
      status: number;
      type: string;
      body: unknown;
    }

    export type Middleware = (ctx: Context, next: () => Promise<unknown>) => Promise<unknown>;
  }

  export = S3rver;
}
