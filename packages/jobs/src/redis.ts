import { Redis, type RedisOptions } from 'ioredis';

/**
 * A connection for BullMQ workers: commands wait through reconnects (BullMQ requires
 * maxRetriesPerRequest null for blocking commands).
 */
export function createWorkerConnection(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, ...options });
}

/** A connection for producers in request handlers: fail fast rather than hang a request. */
export function createProducerConnection(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 5_000, ...options });
}
