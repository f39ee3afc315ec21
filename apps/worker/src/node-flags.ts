/**
 * How a worker process is started; every launcher (npm start, the test and benchmark harness, the Docker and
 * Kubernetes definitions) applies both. A worker streams hundreds of MiB of short-lived buffers and strings,
 * and compresses on libuv's threads, and its resident size is what these bound (`npm run bench` measures it):
 * - V8's young generation: 4 MiB semi-spaces instead of the default 16 keep about 25 MiB less resident, at
 *   no measurable cost in export speed;
 * - glibc's malloc gives every thread that allocates an arena of its own, and zlib allocates on each thread
 *   of the pool; two arenas keep about 15 MiB less resident (musl, as in Alpine images, ignores the setting);
 * - glibc's malloc serves a large block (a Buffer of 128 KiB or more: CSV blocks, upload parts) from its own
 *   mapping, returned to the system when freed, but after the first such free it raises that threshold and then
 *   serves them from its heap, which stays as large as its peak: a fixed threshold keeps about 18 MiB less
 *   resident in a 5M-row Parquet report (242 MiB at the peak against 224; `npm run bench`, formats).
 */
export const WORKER_NODE_FLAGS = ['--max-semi-space-size=4'] as const;

/** Environment a worker process starts with (read by the C library before any code runs). */
export const WORKER_ENVIRONMENT: Readonly<Record<string, string>> = Object.freeze({
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '131072',
});
