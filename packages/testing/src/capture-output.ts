/**
 * Runs `work` with the process's standard output and error captured instead of printed (a CLI command under test):
 * its result, and all it wrote to each.
 */
export async function captureOutput<T>(work: () => Promise<T>): Promise<{ result: T; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const capture = (stream: NodeJS.WriteStream, append: (text: string) => void) =>
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    });
  const out = capture(process.stdout, (text) => (stdout += text));
  const err = capture(process.stderr, (text) => (stderr += text));
  try {
    const result = await work();
    return { result, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
