import type { Readable } from 'node:stream';
import { to as copyTo } from 'pg-copy-streams';
import { translatePgError, watchConnection, type Pool, type PoolClient } from '@cdr-reports/db';
import { listPartitions, type Partition } from '../partitions';
import { addDecimals, type ReportSummary } from '@cdr-reports/domain';
import { estimateSql, exportCopySql, recordsByIdSql, recordsPageSql, summarySql, usageCopySql, usageSelectSql, type QueryAccounts, type RecordPosition, type TimeRange } from './cdr-queries';
import { jsonlCopySql } from './jsonl-queries';
import type { CdrSelection, CdrSource, CsvSegment, RecordsPageRead, ReportRead, SourceRow } from './cdr-source';
import { csvFieldRenderings, CsvRenderer } from './csv-rendering';
import { typedCopySql } from './typed-csv-queries';

/**
 * The CDR source on PostgreSQL: the SQL of cdr-queries.ts run on a pool, PostgreSQL rendering the CSV itself
 * (COPY ... TO STDOUT). Every failure leaves through translatePgError.
 */
export class PostgresCdrSource implements CdrSource {
  constructor(private readonly pool: Pool) {}

  async estimateRows({ request, accountIds }: CdrSelection): Promise<number> {
    const rows = await this.read('UTC', (client) => estimateSql(request, accountIds, rangeOf(request), literalOf(client)));
    const plan = rows[0]?.['QUERY PLAN'] as unknown as Array<{ Plan: { 'Plan Rows': number } }> | undefined;
    return Math.round(plan?.[0]?.Plan['Plan Rows'] ?? 0);
  }

  async openReportRead({ request, accountIds }: CdrSelection, range: TimeRange): Promise<ReportRead> {
    const client = await this.connect();
    const connection = watchConnection(client);
    try {
      const literal = literalOf(client);
      // The transaction and its settings in one round trip.
      await client.query(
        [
          'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
          `SET LOCAL TimeZone = ${literal(request.timezone)}`,
          // The form csv-rendering.ts reads timestamps in, whatever the server's default.
          `SET LOCAL DateStyle = 'ISO, YMD'`,
          request.type === 'usage'
            ? // The groups of a busy hierarchy are sorted in memory rather than spilled to disk.
              `SET LOCAL work_mem = '64MB'`
            : // Rows stream from the first one: each segment is read in (start_time, id) order from an index (one
              // index scan per account, merged, or one scan of cdrs_time_idx over many accounts: see readPlan),
              // never collected and sorted first, which would hold the compressor idle at the start of every segment.
              'SET LOCAL enable_sort = off',
          // No parallel workers, whose sort and merge compete with the compressor for the same cores, and no JIT,
          // whose compile time a day of rows does not pay back.
          'SET LOCAL max_parallel_workers_per_gather = 0',
          'SET LOCAL jit = off',
        ].join('; '),
      );
      // The summary is read on a second connection in the same snapshot, while the rows stream.
      const snapshot = (await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0]!.id;
      const summary = this.summaryInSnapshot(snapshot, summarySql(request, accountIds, range, literal));
      summary.catch(() => undefined);
      // Months without a partition hold no rows: their segments are not asked at all (a 13-month request over a
      // large account set would otherwise send and plan its set hundreds of times for nothing).
      const partitions = await listPartitions(client);
      if (request.format === 'jsonl') {
        // No header row in JSON Lines; a usage report's one segment is always asked (with no dimensions, no rows still make one group).
        const asked = request.type === 'usage' ? undefined : partitions;
        return new PostgresReportRead(client, connection, summary, asked, (segment) => jsonlCopySql(request, accountIds, segment, literal));
      }
      if (request.format === 'parquet') {
        // Parquet types its values itself: it reads the typed CSV (typed-csv-queries.ts).
        return new PostgresReportRead(client, connection, summary, partitions, (segment) => typedCopySql(request, accountIds, segment, literal));
      }
      if (request.type === 'usage') {
        return new PostgresReportRead(client, connection, summary, partitions, (segment) => usageCopySql(request, accountIds, segment, literal));
      }
      const renderings = csvFieldRenderings(request.fields);
      return new PostgresReportRead(
        client,
        connection,
        summary,
        partitions,
        (segment, header) => exportCopySql(request, accountIds, segment, literal, header),
        (header) => new CsvRenderer(renderings, header),
      );
    } catch (error) {
      connection.stop();
      await client.query('ROLLBACK').catch(() => undefined);
      client.release(connection.lost);
      throw translatePgError(error, connection.lost);
    }
  }

  async recordsPage(selection: CdrSelection, page: { limit: number; after?: RecordPosition }): Promise<RecordsPageRead> {
    const { request } = selection;
    const rows = await this.read(request.timezone, (client) => recordsPageSql(request, accountsOf(selection), rangeOf(request), literalOf(client), page));
    const more = rows.length > page.limit;
    const records = more ? rows.slice(0, page.limit) : rows;
    const last = records[records.length - 1];
    return { records, more, ...(last && { end: { startTime: String(last.position_time), id: String(last.position_id) } }) };
  }

  recordsById(query: { ids: readonly string[]; accountIds: readonly string[]; fields: readonly string[]; timezone: string }): Promise<SourceRow[]> {
    return this.read(query.timezone, () => recordsByIdSql(query.fields), [query.ids, query.accountIds]);
  }

  async usageGroups(selection: CdrSelection, page: { limit: number; offset: number }): Promise<{ rows: SourceRow[]; total: number }> {
    const { request } = selection;
    const accountIds = accountsOf(selection);
    const rows = await this.read('UTC', (client) => usageSelectSql(request, accountIds, rangeOf(request), literalOf(client), page));
    if (rows.length > 0 || page.offset === 0) return { rows, total: rows.length > 0 ? Number(rows[0]!.total_results) : 0 };
    // Past the last page: no row carries the total, count the groups themselves.
    const counted = await this.read('UTC', (client) => `SELECT count(*) AS n FROM (${usageSelectSql(request, accountIds, rangeOf(request), literalOf(client))}) g`);
    return { rows, total: Number(counted[0]!.n) };
  }

  private async connect(): Promise<PoolClient> {
    try {
      return await this.pool.connect();
    } catch (error) {
      throw translatePgError(error, true);
    }
  }

  /** One short read-only transaction in `timezone` (timestamps render in it). */
  private read(timezone: string, sql: (client: PoolClient) => string, params: unknown[] = []): Promise<SourceRow[]> {
    // BEGIN and SET in one round trip.
    // No parallel workers: their start-up (tens of ms) costs a page more than it saves.
    const begin = (client: PoolClient) => [`BEGIN READ ONLY; SET LOCAL TimeZone = ${client.escapeLiteral(timezone)}; SET LOCAL max_parallel_workers_per_gather = 0`];
    return this.transaction(begin, async (client) => (await client.query<SourceRow>(sql(client), params)).rows);
  }

  /** The summary query on its own connection, in the snapshot exported by the COPY's transaction. */
  private summaryInSnapshot(snapshot: string, sql: string): Promise<ReportSummary> {
    const begin = (client: PoolClient) => [
      'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
      `SET TRANSACTION SNAPSHOT ${client.escapeLiteral(snapshot)}`,
      `SET LOCAL work_mem = '64MB'`,
    ];
    return this.transaction(begin, async (client) => foldSummary((await client.query<SummaryRow>(sql)).rows));
  }

  /** `work` between the `begin` statements and COMMIT on one connection; any failure translated. */
  private async transaction<T>(begin: (client: PoolClient) => string[], work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.connect();
    const connection = watchConnection(client);
    try {
      for (const statement of begin(client)) await client.query(statement);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw translatePgError(error, connection.lost);
    } finally {
      connection.stop();
      client.release(connection.lost);
    }
  }
}

/** A report's read: one REPEATABLE READ transaction on `client`, one COPY per segment. */
class PostgresReportRead implements ReportRead {
  /** A COPY is under way (or was abandoned mid-stream): the connection's protocol state is unknown. */
  private copying = false;

  constructor(
    private readonly client: PoolClient,
    private readonly connection: ReturnType<typeof watchConnection>,
    readonly summary: Promise<ReportSummary>,
    /** The partitions, to skip segments none overlaps; undefined to ask every segment. */
    private readonly partitions: readonly Partition[] | undefined,
    private readonly copySql: (segment: TimeRange, header: boolean) => string,
    /** What finishes a CSV report's bytes (csv-rendering.ts); none: the COPY's bytes are final. */
    private readonly renderer?: (header: boolean) => CsvRenderer,
  ) {}

  segmentCsv(segment: TimeRange, header: boolean): CsvSegment {
    const csv = {
      rows: 0,
      [Symbol.asyncIterator]: () =>
        this.copy(segment, header, (rows) => {
          csv.rows = rows;
        }),
    };
    return csv;
  }

  private async *copy(segment: TimeRange, header: boolean, onEnd: (rows: number) => void): AsyncGenerator<Buffer> {
    // The header is PostgreSQL's to write: a segment that carries it is always asked.
    if (!header && this.partitions && !this.partitions.some((p) => p.from < segment.to && segment.from < p.to)) {
      onEnd(0);
      return;
    }
    this.copying = true;
    const copy = this.client.query(copyTo(this.copySql(segment, header))) as Readable & { rowCount: number };
    const renderer = this.renderer?.(header);
    try {
      for await (const chunk of copy) {
        const bytes = renderer ? renderer.push(chunk as Buffer) : (chunk as Buffer);
        if (bytes.length > 0) yield bytes;
      }
    } catch (error) {
      throw translatePgError(error, this.connection.lost);
    }
    renderer?.end();
    this.copying = false;
    onEnd(copy.rowCount);
  }

  async close(): Promise<void> {
    this.connection.stop();
    if (this.copying || this.connection.lost) {
      // A COPY cut off mid-stream leaves the connection in an unknown protocol state: close it.
      this.client.release(true);
      return;
    }
    try {
      await this.client.query('COMMIT');
    } finally {
      this.client.release();
    }
  }
}

interface SummaryRow {
  currency: string | null;
  status: string | null;
  records: string;
  duration_seconds: string;
  billsec_seconds: string;
  total_price: string | null;
}

/** Count and totals per (currency, status) folded into the report's summary (exact decimals). */
function foldSummary(rows: readonly SummaryRow[]): ReportSummary {
  const summary: ReportSummary = { records: 0, duration_seconds: 0, billsec_seconds: 0, total_price: {}, status: {} };
  for (const row of rows) {
    const records = Number(row.records);
    summary.records += records;
    summary.duration_seconds += Number(row.duration_seconds);
    summary.billsec_seconds += Number(row.billsec_seconds);
    if (row.status !== null) summary.status[row.status] = (summary.status[row.status] ?? 0) + records;
    if (row.currency !== null) summary.total_price[row.currency] = addDecimals(summary.total_price[row.currency] ?? '0', row.total_price ?? '0');
  }
  return summary;
}

function accountsOf(selection: CdrSelection): QueryAccounts {
  return selection.tree ? { tree: selection.tree.root, size: selection.tree.size } : selection.accountIds;
}

function rangeOf(request: CdrSelection['request']): TimeRange {
  return { from: new Date(request.date_start), to: new Date(request.date_end), fromText: request.date_start, toText: request.date_end };
}

function literalOf(client: PoolClient): (value: string) => string {
  return (value) => client.escapeLiteral(value);
}
