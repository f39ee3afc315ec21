import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The Prometheus metrics of one app process (prom-client), all in its own registry with an `app` label:
 * Node's defaults, HTTP latency by route, jobs by queue and state, job durations, rows and bytes exported,
 * export speed, callback attempts by outcome and sweeper deletions. Each app records what it does; a metric
 * nobody records shows no samples.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  readonly jobDuration: Histogram<'queue' | 'job' | 'outcome'>;
  readonly rowsExported: Counter<'kind'>;
  readonly bytesExported: Counter<'kind'>;
  readonly exportRowsPerSecond: Gauge;
  readonly callbackAttempts: Counter<'outcome'>;
  readonly sweeperDeletions: Counter;
  readonly jobs: Gauge<'queue' | 'state'>;

  constructor(app: string) {
    this.registry.setDefaultLabels({ app });
    collectDefaultMetrics({ register: this.registry, prefix: 'cdr_reports_' });
    const registers = [this.registry];
    this.httpDuration = new Histogram({
      name: 'cdr_reports_http_request_duration_seconds',
      help: 'HTTP request latency by route and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.jobDuration = new Histogram({
      name: 'cdr_reports_job_duration_seconds',
      help: 'Time a job spent in a worker, by queue, job name and outcome (completed or failed)',
      labelNames: ['queue', 'job', 'outcome'],
      buckets: [0.05, 0.25, 1, 5, 15, 60, 300, 900, 3600],
      registers,
    });
    this.rowsExported = new Counter({ name: 'cdr_reports_rows_exported_total', help: 'Rows written to report files (kind: report or segment)', labelNames: ['kind'], registers });
    this.bytesExported = new Counter({ name: 'cdr_reports_bytes_exported_total', help: 'Compressed bytes of report files stored (kind: report or segment)', labelNames: ['kind'], registers });
    this.exportRowsPerSecond = new Gauge({ name: 'cdr_reports_export_rows_per_second', help: 'Rows per second of the last report this process finished', registers });
    this.callbackAttempts = new Counter({ name: 'cdr_reports_callback_attempts_total', help: 'Callback delivery attempts by outcome (delivered, failed, skipped)', labelNames: ['outcome'], registers });
    this.sweeperDeletions = new Counter({ name: 'cdr_reports_sweeper_deleted_files_total', help: 'Report files the sweeper deleted at expiry', registers });
    this.jobs = new Gauge({ name: 'cdr_reports_jobs', help: 'Jobs by queue and state, read from Redis at scrape time', labelNames: ['queue', 'state'], registers });
  }

  /** A job's time in a worker (from BullMQ's processedOn to finishedOn, or now), by queue, name and outcome. */
  observeJob(queue: string, job: { name: string; processedOn?: number; finishedOn?: number } | undefined, outcome: 'completed' | 'failed'): void {
    if (!job?.processedOn) return;
    this.jobDuration.observe({ queue, job: job.name, outcome }, ((job.finishedOn ?? Date.now()) - job.processedOn) / 1000);
  }

  /** Reads the job counts at each scrape (`counts` is called then; its errors leave the last values). */
  collectJobCounts(counts: () => Promise<Record<string, Record<string, number>>>): void {
    const gauge = this.jobs;
    // prom-client calls collect() on every scrape; it may be async.
    (gauge as unknown as { collect: () => Promise<void> }).collect = async () => {
      try {
        for (const [queue, states] of Object.entries(await counts())) {
          for (const [state, value] of Object.entries(states)) gauge.set({ queue, state }, value);
        }
      } catch {
        // Redis unreachable now: the scrape still answers, /readyz tells the story.
      }
    };
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
