import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '@cdr-reports/logging';
import { JOBS, QUEUES } from './catalog';

/** What the outbox needs from the callback store: to note that an event reached the queue, and to start a new delivery. */
export interface CallbackOutboxStore {
  markEnqueued(eventId: string): Promise<void>;
  /** Opens delivery number N+1 of a finished event; returns N+1. */
  redeliver(eventId: string): Promise<number>;
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
 * The callback outbox's publishing side: events are recorded durably with a report's terminal state (in the
 * same transaction); this hands them to the notifier's queue and notes that they got there.
 */
export class CallbackOutbox {
  constructor(
    private readonly queue: CallbackQueue,
    private readonly store: CallbackOutboxStore,
    private readonly logger: Logger,
  ) {}

  /**
   * Hands a just-recorded event to the queue (delivery number `delivery`). Never throws: if this fails or the
   * process dies first, the notifier's relay enqueues the event a moment later.
   */
  async publish(eventId: string | undefined, delivery = 1): Promise<void> {
    if (!eventId) return;
    try {
      await this.queue.enqueue(eventId, delivery);
      await this.store.markEnqueued(eventId);
    } catch (error) {
      this.logger.warn({ err: error, event_id: eventId }, 'callback event recorded but not enqueued; the relay will');
    }
  }

  /** Enqueues a delivery of an event that must reach the queue now (the relay): throws when it cannot. */
  async enqueue(eventId: string, delivery: number): Promise<void> {
    await this.queue.enqueue(eventId, delivery);
    await this.store.markEnqueued(eventId);
  }

  /** Starts a new delivery of a delivered or failed event (same webhook-id and body); returns its number. */
  async redeliver(eventId: string): Promise<number> {
    const delivery = await this.store.redeliver(eventId);
    await this.enqueue(eventId, delivery);
    return delivery;
  }
}
