/** Finding the binaries the stack runs, with one clear sentence when missing. */
import { accessSync, constants } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (two folders above this file). */
export const PROJECT_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const TOOLS_BIN = join(PROJECT_ROOT, 'tools', 'bin');

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * An executable by name: the env override first, then ./tools/bin, then PATH.
 * Throws a one-sentence error that says what to install.
 */
export function findExecutable(name: string, envVar: string, env: NodeJS.ProcessEnv = process.env): string {
  const override = env[envVar];
  if (override) {
    if (isExecutable(override)) return override;
    throw new Error(`${envVar}=${override} is not an executable file.`);
  }
  const candidates = [join(TOOLS_BIN, name), ...(env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, name))];
  const found = candidates.find(isExecutable);
  if (found) return found;
  throw new Error(`${name} was not found in ${TOOLS_BIN} or on PATH: run 'npm run setup' (or install it and set ${envVar}).`);
}
