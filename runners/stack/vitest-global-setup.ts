/**
 * Vitest global setup of the `stack` project: one stack per test run, shared
 * by every suite through `inject('stack')`, torn down when the run ends
 * (also on failure; Ctrl-C is handled by vitest calling this teardown, and
 * the process-exit hook kills any group still alive).
 */
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { loadStackConfig } from './config';
import { Stack } from './stack';
import type { StackInfo } from './types';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const stack = await Stack.start(loadStackConfig());
  const pids = stack.processes().map((p) => `${p.spec.name}(pid ${p.pid}, ready in ${p.readyMs.at(-1)} ms)`).join(' ');
  console.log(`[stack] ${stack.info.kind} stack up in ${Date.now() - started} ms: backend ${stack.info.backend.url}, influx ${stack.info.influx.directUrl} ${pids} logs ${stack.info.logsDir}`);
  project.provide('stack', stack.info);
  return async () => {
    await stack.stop();
  };
}
