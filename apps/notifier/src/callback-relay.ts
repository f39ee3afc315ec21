import type { CallbacksRepository } from '@cdr-reports/db';
import type { CallbackOutbox } from '@cdr-reports/jobs';
import type { Logger } from '@cdr-reports/logging';

/**
 * The outbox relay: events recorded with a terminal state but never handed to the queue (the process that
 * recorded them died in between, or Redis was away) are enqueued here. Enqueuing twice is harmless: the job
 * id is the event id and delivery number.
 */
export function startCallbackRelay(deps: { callbacks: CallbacksRepository; outbox: CallbackOutbox; logger: Logger; intervalMs?: number; graceMs?: number }) {
  const intervalMs = deps.intervalMs ?? 2_000;
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      const events = await deps.callbacks.unqueued(new Date(Date.now() - (deps.graceMs ?? 2_000)), 500);
      for (const event of events) {
        await deps.outbox.enqueue(event.id, event.deliveries);
      }
      if (events.length > 0) deps.logger.info({ events: events.length }, 'callback relay enqueued recorded events');
    } catch (error) {
      deps.logger.warn({ err: error }, 'callback relay could not run; it tries again');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), intervalMs);
  return {
    tick,
    async stop() {
      clearInterval(timer);
      while (running) await new Promise((resolve) => setTimeout(resolve, 20));
    },
  };
}
