import { sleep } from '../clock';

/** Poll `cond` every 10 ms until it holds or `timeoutMs` passes (tests on a busy machine must not race fixed sleeps). */
export async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond() && Date.now() < end) await sleep(10);
}
