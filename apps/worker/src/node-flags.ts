/**
 * How a worker process is started; every launcher (npm start, the test and benchmark harness, the Docker and
 * Kubernetes definitions) applies both. A worker streams hundreds of MiB of short-lived buffers and strings,
 * and compresses on libuv's threads, and its resident size is what these bound (`npm run bench` measures it):
 * - V8's young generation: 4 MiB semi-spaces instead of the default 16 keep about 25 MiB less resident, at
 *   no measurable cost in export speed;
 * - glibc's malloc gives every thread that allocates an arena of its own, and zlib allocates on each thread
 *   of the pool; two arenas keep about 15 MiB less resident (musl, as in Alpine images, ignores the setting).
 */
export const WORKER_NODE_FLAGS = ['--max-semi-space-size=4'] as const;

/** Environment a worker process starts with (read by the C library before any code runs). */
export const WORKER_ENVIRONMENT: Readonly<Record<string, string>> = Object.freeze({ MALLOC_ARENA_MAX: '2' });
