import type { Queue, Worker } from 'bullmq';

export interface JobFlowOptions {
  /** The worker taking the queue's jobs. */
  worker: Worker;
  /** The same queue, to count what waits. */
  queue: Queue;
  /** How long jobs may wait with a free slot and none taken before the worker reads as wedged. Default 60 s. */
  stallMs?: number;
  now?: () => number;
}

/**
 * A readiness check that jobs are flowing: it fails when the worker is not running, or when jobs have been
 * waiting for `stallMs` while the worker had a free slot and took none (a worker wedged after a Redis
 * reconnect looks exactly like that: connected, idle, and deaf to its queue). An empty queue is fine.
 */
export function jobFlowCheck(options: JobFlowOptions): () => Promise<void> {
  const now = options.now ?? Date.now;
  const stallMs = options.stallMs ?? 60_000;
  let lastTaken = now();
  let waitingSince: number | undefined;
  // This worker's own jobs in flight (the queue's active count is the whole cluster's).
  let inFlight = 0;
  options.worker.on('active', () => {
    lastTaken = now();
    inFlight++;
  });
  const finished = () => {
    inFlight = Math.max(0, inFlight - 1);
  };
  options.worker.on('completed', finished);
  options.worker.on('failed', finished);
  return async () => {
    if (!options.worker.isRunning()) throw new Error(`the ${options.queue.name} worker is not running`);
    const waiting = (await options.queue.getWaitingCount()) + (await options.queue.getPrioritizedCount());
    if (waiting === 0) {
      waitingSince = undefined;
      return;
    }
    waitingSince ??= now();
    const busy = inFlight >= options.worker.concurrency;
    const stalledFor = now() - Math.max(lastTaken, waitingSince);
    if (!busy && stalledFor >= stallMs) {
      throw new Error(`${waiting} jobs have waited ${Math.round(stalledFor / 1000)} s on ${options.queue.name} with a free slot and none was taken`);
    }
  };
}
