/** run.json: the RunReport as validated JSON (the source the other writers can be re-run from). */
import { readFile, rename, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseRunReport, type RunReport } from './runReport';

export const RUN_JSON = 'run.json';

/** Validate and serialise (2-space indent, trailing newline). Throws a ZodError when invalid. */
export function renderJson(report: RunReport): string {
  return JSON.stringify(parseRunReport(report), null, 2) + '\n';
}

/** Write `<dir>/run.json` atomically (temp file + rename); returns its path. */
export async function writeJsonReport(report: RunReport, dir: string): Promise<string> {
  return writeAtomic(join(dir, RUN_JSON), renderJson(report));
}

export async function readJsonReport(path: string): Promise<RunReport> {
  return parseRunReport(JSON.parse(await readFile(path, 'utf8')));
}

/** A reader never sees a half-written report (a run may be killed while writing). */
export async function writeAtomic(path: string, text: string): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, 'utf8');
  await rename(tmp, path);
  return path;
}
