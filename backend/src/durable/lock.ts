/**
 * One backend per data directory: two processes appending to the same log
 * would corrupt it. The lock file holds the owner's pid; a lock left behind
 * by a dead process (SIGKILL) is taken over.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class DataDirLockedError extends Error {
  constructor(dir: string, pid: number) {
    super(`data directory ${dir} is in use by process ${pid} (remove ${join(dir, 'LOCK')} if that is wrong)`);
    this.name = 'DataDirLockedError';
  }
}

function alive(pid: number): boolean {
  if (pid === process.pid) return false; // our own pid from an earlier life (pid reuse)
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Locks this process holds (a file with our own pid is otherwise taken as stale). */
const heldHere = new Set<string>();

/** Take the lock; returns a release function. */
export function lockDataDir(dir: string): () => void {
  const file = join(dir, 'LOCK');
  if (heldHere.has(file)) throw new DataDirLockedError(dir, process.pid);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      heldHere.add(file);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        heldHere.delete(file);
        rmSync(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let pid = NaN;
      try {
        pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
      } catch {
        /* vanished or unreadable: retry */
      }
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) throw new DataDirLockedError(dir, pid);
      rmSync(file, { force: true });
    }
  }
  throw new Error(`could not take the lock ${file}`);
}
