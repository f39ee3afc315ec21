import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '@cdr-reports/logging';
import { JOBS, QUEUES } from './catalog';

/** What the outbox needs from the callback store: to note that an event reached the queue. */
export interface CallbackOutboxStore {
  markEnqueued(eventId: string): Promise<void>;
}

/** The producer side of the callbacks queue. */
export class CallbackQueue {
  private readonly queue: Queue;

  /**
   * @param schedule - CALLBACK_RETRY_SCHEDULE: the delay before each attempt, the first included; its length
   *   is the number of attempts per delivery.
   */
  constructor(
    connection: Redis,
    prefix: string,
    private readonly schedule: readonly number[],
  ) {
    this.queue = new Queue(QUEUES.callbacks, { connection, prefix });
    this.queue.on('error', () => undefined);
  }

  /**
   * Enqueues delivery number `delivery` of an event. The job id (event id and delivery number) makes a
   * repeated enqueue of the same delivery a no-op, so the outbox relay may race the fast path safely.
   */
  async enqueue(eventId: string, delivery = 1): Promise<void> {
    await this.queue.add(
      'deliver-callback',
      { eventId },
      { ...JOBS['deliver-callback'].options, attempts: this.schedule.length, delay: this.schedule[0] ?? 0, jobId: `${eventId}.${delivery}` },
    );
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

/**
 * Hands a just-recorded callback event to the queue. The event is already durable (recorded with the report's
 * terminal state); if this fails or the process dies first, the notifier's relay enqueues it a moment later.
 */
export async function publishCallbackEvent(
  eventId: string | undefined,
  queue: CallbackQueue,
  store: CallbackOutboxStore,
  logger: Logger,
): Promise<void> {
  if (!eventId) return;
  try {
    await queue.enqueue(eventId);
    await store.markEnqueued(eventId);
  } catch (error) {
    logger.warn({ err: error, event_id: eventId }, 'callback event recorded but not enqueued; the relay will');
  }
}
