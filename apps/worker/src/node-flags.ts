/**
 * Node flags a worker process runs with; every launcher (npm start, the test and benchmark harness, the
 * Docker and Kubernetes definitions) passes them. A worker streams hundreds of MiB of short-lived buffers
 * and strings; V8's default young generation (16 MiB semi-spaces) lets its resident size grow by about
 * 20 MiB more than 8 MiB semi-spaces do, at no measurable cost in export speed (`npm run bench`).
 */
export const WORKER_NODE_FLAGS = ['--max-semi-space-size=8'] as const;
