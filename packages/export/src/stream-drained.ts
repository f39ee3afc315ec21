/**
 * Resolves when `stream` can take more; rejects when it is destroyed instead (the upload failed and tore the
 * compressor down), before or while waiting: a destroyed stream never emits 'drain', and waiting for one
 * would hang the report with its snapshot open.
 */
export function drained(stream: NodeJS.WritableStream & { destroyed: boolean; errored: Error | null }): Promise<void> {
  if (stream.destroyed) return Promise.reject(stream.errored ?? new Error('the compressor was closed'));
  return new Promise((resolve, reject) => {
    const settle = (error?: Error) => {
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => settle();
    const onClose = () => settle(stream.errored ?? new Error('the compressor was closed'));
    stream.on('drain', onDrain);
    stream.on('close', onClose);
  });
}
