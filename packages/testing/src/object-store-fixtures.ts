import { buffer } from 'node:stream/consumers';
import type { ObjectStore } from '@cdr-reports/object-store';

/** The whole of a stored object; throws when there is none under `key`. */
export async function downloadObject(store: ObjectStore, key: string): Promise<Buffer> {
  const stream = await store.getStream(key);
  if (!stream) throw new Error(`no object ${key}`);
  return buffer(stream);
}

/** Every key under `prefix`, in the store's listing order. */
export async function keysUnder(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of store.list(prefix)) keys.push(object.key);
  return keys;
}
