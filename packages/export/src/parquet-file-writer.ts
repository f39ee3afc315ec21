import type { Writable } from 'node:stream';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { Compressor } from 'zstd-napi';
import type { ParquetColumn } from '@cdr-reports/domain';
import type { ParquetValue } from './parquet-values';
import { drained } from './stream-drained';

// The writer's own SchemaElement (from the hyparquet it depends on, pinned by it), whatever hyparquet sits at the top.
type SchemaElement = ConstructorParameters<typeof ParquetWriter>[0]['schema'][number];

/** Pinned in package.json: the file records which writer made it. */
const CREATED_BY = 'cdr-reports (hyparquet-writer 0.17.0)';
/** Bytes handed to the stream at a time while a row group is encoded. */
const CHUNK_BYTES = 1024 * 1024;

/** The Parquet schema element of a report column (see the domain's parquet-columns.ts). */
function schemaElement({ name, type, nullable }: ParquetColumn): SchemaElement {
  const repetition_type = nullable ? 'OPTIONAL' : 'REQUIRED';
  switch (type.kind) {
    case 'string':
      return { name, repetition_type, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } };
    // Plain INT32 and INT64 (signed integers by the format's definition), without an INTEGER logical type:
    // hyparquet-writer 0.17.0 writes its bitWidth as a Thrift i32 where the format has an i8, and DuckDB then
    // refuses the whole footer.
    case 'int32':
      return { name, repetition_type, type: 'INT32' };
    case 'int64':
      return { name, repetition_type, type: 'INT64' };
    case 'timestamp':
      return {
        name,
        repetition_type,
        type: 'INT64',
        converted_type: 'TIMESTAMP_MICROS',
        logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
      };
    case 'date':
      return { name, repetition_type, type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } };
    case 'decimal':
      return {
        name,
        repetition_type,
        type: 'FIXED_LEN_BYTE_ARRAY',
        type_length: type.bytes,
        converted_type: 'DECIMAL',
        precision: type.precision,
        scale: type.scale,
        logical_type: { type: 'DECIMAL', precision: type.precision, scale: type.scale },
      };
  }
}

export function parquetSchema(columns: readonly ParquetColumn[]): SchemaElement[] {
  return [{ name: 'root', num_children: columns.length }, ...columns.map(schemaElement)];
}

export interface ParquetFileWriterOptions {
  columns: readonly ParquetColumn[];
  /** The file's key-value metadata. */
  metadata: Record<string, string>;
  /** zstd level of the column chunks. Default 3 (zstd's own default: levels above it cost time for little). */
  zstdLevel?: number;
}

/**
 * One Parquet file written row group by row group into a Node Writable (the upload's body): ZSTD column chunks
 * (zstd-napi), the footer at the end. A row group is encoded synchronously (about 10 ms per thousand rows of
 * every CDR column) and its bytes handed on in 1 MiB pieces; the next one waits for the stream to drain. Nothing is kept but
 * the footer's metadata, a few hundred bytes per column and row group.
 */
export class ParquetFileWriter {
  private readonly writer: ParquetWriter;
  private readonly bytes: ByteWriter;
  private footer = 0;

  constructor(
    private readonly out: Writable,
    private readonly options: ParquetFileWriterOptions,
  ) {
    const zstd = new Compressor();
    zstd.setParameters({ compressionLevel: options.zstdLevel ?? 3 });
    this.bytes = streamingByteWriter(out);
    this.writer = new ParquetWriter({
      writer: this.bytes,
      schema: parquetSchema(options.columns),
      codec: 'ZSTD',
      compressors: { ZSTD: (input) => zstd.compress(input) },
      kvMetadata: Object.entries(options.metadata).map(([key, value]) => ({ key, value })),
      createdBy: CREATED_BY,
    });
  }

  /** Bytes of the file so far (handed to the stream or about to be). */
  get bytesWritten(): number {
    return this.bytes.offset;
  }

  /** Bytes of the footer (metadata, page indexes and trailer), once finished. */
  get footerBytes(): number {
    return this.footer;
  }

  /**
   * Writes one row group of `rows` rows: `values[c]` holds column c's values (null where NULL), converted by
   * parquet-values.ts. Resolves once the stream can take more.
   */
  async writeRowGroup(values: ReadonlyArray<Array<ParquetValue | null>>, rows: number): Promise<void> {
    const columnData = this.options.columns.map((column, c) => ({ name: column.name, data: values[c]! }));
    await this.writer.write({ columnData, rowGroupSize: rows });
  }

  /** Writes the footer, ends the stream and resolves once it has taken every byte. */
  async finish(): Promise<void> {
    const before = this.bytes.offset;
    await this.writer.finish();
    this.footer = this.bytes.offset - before;
    await new Promise<void>((resolve, reject) => this.out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  }
}

/**
 * A hyparquet ByteWriter that hands its bytes to `out` instead of growing one buffer for the whole file: every
 * 1 MiB while a row group is encoded (the encoding is synchronous, so those writes only queue), and what is left
 * at each flush (after every row group), which then waits for `out` to drain. A stream torn down meanwhile (the
 * upload failed) stops the encoding with its error.
 */
function streamingByteWriter(out: Writable): ByteWriter {
  const writer = new ByteWriter(CHUNK_BYTES * 2);
  const push = () => {
    if (out.destroyed) throw out.errored ?? new Error('the Parquet file stream was closed');
    if (writer.index === 0) return;
    // A copy: the buffer is reused for the next bytes.
    out.write(Buffer.from(writer.buffer.slice(0, writer.index)));
    writer.index = 0;
  };
  const ensure = writer.ensure.bind(writer);
  writer.ensure = (size: number) => {
    if (writer.index > CHUNK_BYTES) push();
    ensure(size);
  };
  const streaming = writer as ByteWriter & { flush(): Promise<void> };
  streaming.flush = async () => {
    push();
    if (out.writableNeedDrain) await drained(out);
  };
  writer.finish = () => push();
  writer.getBuffer = () => {
    throw new Error('a streaming Parquet writer keeps no buffer');
  };
  return writer;
}
