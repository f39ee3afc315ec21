/**
 * Keys come from our own code (report ids, dates), never from a customer, but a `..` slipping in would write
 * outside the customer's folder on SFTP: every key is checked before it becomes a path.
 */
export function checkRelativeKey(key: string): string {
  if (!isRelativePath(key)) {
    throw new RangeError(`not a relative key (a/b/c.csv, no empty, "." or ".." segments): ${JSON.stringify(key)}`);
  }
  return key;
}

/** A folder as `list` takes it: '' for the root, otherwise a relative key, with or without a trailing slash. */
export function checkRelativeFolder(folder: string): string {
  const trimmed = folder.replace(/\/$/, '');
  if (trimmed !== '' && !isRelativePath(trimmed)) {
    throw new RangeError(`not a relative folder (a/b, or '' for the root): ${JSON.stringify(folder)}`);
  }
  return trimmed;
}

function isRelativePath(path: string): boolean {
  if (path === '' || path.includes('\0') || path.includes('\\')) return false;
  return path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}
