/** Loopback ports and readiness polling. */
import { createServer } from 'node:net';

export const LOOPBACK = '127.0.0.1';

/** A port the OS says is free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, LOOPBACK, () => {
      const addr = srv.address();
      srv.close(() => {
        if (addr && typeof addr === 'object') resolve(addr.port);
        else reject(new Error('could not read the port of a probe socket'));
      });
    });
  });
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const onAbort = () => { clearTimeout(t); resolve(); };
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * Poll `check` until it returns true, every `intervalMs`, until the signal
 * aborts. The last error is kept so a timeout can say why.
 */
export async function pollUntil(
  check: () => Promise<boolean>,
  signal: AbortSignal,
  intervalMs = 50,
): Promise<void> {
  let last: unknown;
  while (!signal.aborted) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await sleep(intervalMs, signal);
  }
  throw new Error(`gave up waiting${last ? `: ${(last as Error).message ?? last}` : ''}`);
}

/** True when GET url answers with one of the expected statuses. */
export async function httpAnswers(url: string, statuses: number[], headers?: Record<string, string>): Promise<boolean> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(2_000) });
  await res.arrayBuffer();
  return statuses.includes(res.status);
}
