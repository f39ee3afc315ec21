/**
 * What keeps this process alive, counted by kind (process.getActiveResourcesInfo(): TCPSocketWrap, TCPServerWrap,
 * Timeout, ProcessWrap, PipeWrap, ...). Unref'd handles and timers are not counted: they do not keep a process alive.
 */
export type HandleCensus = Map<string, number>;

export function takeHandleCensus(): HandleCensus {
  const counts: HandleCensus = new Map();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

/** What each kind of resource is, in the words of a test writer. */
const PLAIN_NAMES: Record<string, string> = {
  TCPSocketWrap: 'sockets',
  TCPServerWrap: 'servers',
  Timeout: 'timers',
  Immediate: 'immediates',
  ProcessWrap: 'child processes',
  PipeWrap: 'pipes',
  TTYWrap: 'terminals',
  UDPWrap: 'UDP sockets',
  FSReqCallback: 'file system requests',
  FSEventWrap: 'file watchers',
  StatWatcher: 'file watchers',
  SignalWrap: 'signal listeners',
  GetAddrInfoReqWrap: 'DNS lookups',
};

/** The kinds (but `ignore`) of which there are more now than in `before`, as "TCPSocketWrap (sockets) 2 -> 4"; empty when none. */
export function handlesAbove(before: HandleCensus, ignore: readonly string[] = []): string[] {
  return [...takeHandleCensus()]
    .filter(([kind, n]) => n > (before.get(kind) ?? 0) && !ignore.includes(kind))
    .map(([kind, n]) => `${kind}${PLAIN_NAMES[kind] ? ` (${PLAIN_NAMES[kind]})` : ''} ${before.get(kind) ?? 0} -> ${n}`);
}

/** The handle objects open now (Node's undocumented _getActiveHandles; empty where it is missing). */
export function openHandles(): unknown[] {
  return (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles?.() ?? [];
}

/**
 * Where the sockets, servers and child processes opened since `before` point (best effort), to tell which client
 * or server was left open.
 */
export function describeOpenedSince(before: ReadonlySet<unknown>): string[] {
  const described: string[] = [];
  for (const handle of openHandles()) {
    if (before.has(handle)) continue;
    const socket = handle as { remoteAddress?: string; remotePort?: number; localPort?: number; address?: () => unknown; listening?: boolean; pid?: number; spawnfile?: string };
    if (typeof socket.remotePort === 'number') described.push(`socket ${socket.localPort} -> ${socket.remoteAddress}:${socket.remotePort}`);
    else if (socket.listening && typeof socket.address === 'function') {
      const address = socket.address() as { address?: string; port?: number } | string | null;
      described.push(`server on ${typeof address === 'string' ? address : `${address?.address}:${address?.port}`}`);
    } else if (typeof socket.pid === 'number' && socket.spawnfile) described.push(`child process ${socket.pid} (${socket.spawnfile})`);
  }
  return described;
}
