import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

/** A column of a Parquet file as DuckDB reads its schema. */
export interface ParquetSchemaColumn {
  name: string;
  /** Physical type: BYTE_ARRAY, INT32, INT64, FIXED_LEN_BYTE_ARRAY... */
  type: string;
  type_length: string | null;
  repetition_type: string;
  logical_type: string | null;
  /** DuckDB's own type for it (DESCRIBE): VARCHAR, INTEGER, BIGINT, TIMESTAMP WITH TIME ZONE, DECIMAL(20,8), DATE. */
  duckdb_type: string;
}

/** What DuckDB reads in a Parquet file. */
export interface ParquetContent {
  schema: ParquetSchemaColumn[];
  /** The file's key-value metadata. */
  metadata: Record<string, string>;
  rowGroups: number;
  /** Codecs of the column chunks. */
  codecs: string[];
  createdBy: string;
  /** Every row, in file order, each value as text (NULL stays null): see `select`. */
  rows: Array<Record<string, string | null>>;
}

/**
 * Reads Parquet files with DuckDB, a reader that shares nothing with the writer: the file is written to a
 * temporary folder and queried there. Values come back as text so that nothing is rounded on the way: decimals
 * by DuckDB's exact cast, timestamps as microseconds since the epoch (`epoch_us`), dates as YYYY-MM-DD.
 * Close it after use.
 */
export class ParquetReader {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly folder: string,
  ) {}

  static async open(): Promise<ParquetReader> {
    // Loaded here, not with the testing package: most suites never read a Parquet file.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    const connection = await instance.connect();
    await connection.run(`SET TimeZone = 'UTC'`);
    return new ParquetReader(instance, connection, await mkdtemp(join(tmpdir(), 'parquet-reader-')));
  }

  private files = 0;

  /** Writes `bytes` to a file of its own and returns its path, for queries of your own (see `query`). */
  async file(bytes: Buffer): Promise<string> {
    const path = join(this.folder, `${++this.files}.parquet`);
    await writeFile(path, bytes);
    return path;
  }

  /** Runs `sql` and returns its rows, bigints as text. */
  async query(sql: string): Promise<Array<Record<string, unknown>>> {
    const result = await this.connection.runAndReadAll(sql);
    return result.getRowObjectsJS().map((row) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, typeof value === 'bigint' ? value.toString() : value])));
  }

  /** The schema, metadata and rows of a Parquet file, its values rendered exactly as text. */
  async read(bytes: Buffer): Promise<ParquetContent> {
    const path = await this.file(bytes);
    const at = `'${path}'`;
    const described = await this.query(`DESCRIBE SELECT * FROM read_parquet(${at})`);
    const duckdbTypes = new Map(described.map((row) => [String(row.column_name), String(row.column_type)]));
    const schema = (
      await this.query(`SELECT name, type, type_length, repetition_type, logical_type FROM parquet_schema(${at}) WHERE num_children IS NULL OR num_children = 0`)
    ).map((row) => ({
      name: String(row.name),
      type: String(row.type),
      type_length: row.type_length == null ? null : String(row.type_length),
      repetition_type: String(row.repetition_type),
      logical_type: row.logical_type == null ? null : String(row.logical_type),
      duckdb_type: duckdbTypes.get(String(row.name)) ?? '',
    }));
    const metadata = Object.fromEntries(
      (await this.query(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(${at})`)).map((row) => [String(row.k), String(row.v)]),
    );
    const meta = await this.query(`SELECT count(DISTINCT row_group_id) AS groups, list(DISTINCT compression) AS codecs FROM parquet_metadata(${at})`);
    const createdBy = (await this.query(`SELECT created_by FROM parquet_file_metadata(${at})`))[0]?.created_by;
    const select = schema.map(({ name, duckdb_type }) => `${textOf(`"${name.replace(/"/g, '""')}"`, duckdb_type)} AS "${name.replace(/"/g, '""')}"`);
    const rows = select.length === 0 ? [] : await this.query(`SELECT ${select.join(', ')} FROM read_parquet(${at})`);
    return {
      schema,
      metadata,
      rowGroups: Number(meta[0]?.groups ?? 0),
      codecs: ((meta[0]?.codecs as string[] | null) ?? []).map(String),
      createdBy: String(createdBy),
      rows: rows as Array<Record<string, string | null>>,
    };
  }

  async close(): Promise<void> {
    this.connection.closeSync();
    this.instance.closeSync();
    await rm(this.folder, { recursive: true, force: true });
  }
}

/** A column's value as exact text. */
function textOf(ref: string, duckdbType: string): string {
  if (duckdbType.startsWith('TIMESTAMP')) return `epoch_us(${ref})::VARCHAR`;
  return `${ref}::VARCHAR`;
}
