/** Process-group helpers for processes we no longer hold a handle to (CLI `down`). */
import { readFileSync, readdirSync } from 'node:fs';

/** Alive = exists and is not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3 (after the parenthesised command name) is the state letter.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Pids whose process group is `pgid` (from /proc), zombies excluded. */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // rest[0]=state, rest[1]=ppid, rest[2]=pgrp
      if (Number(rest[2]) === pgid && rest[0] !== 'Z' && rest[0] !== 'X') out.push(Number(e));
    } catch {
      /* raced with exit */
    }
  }
  return out;
}

function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    /* gone */
  }
}

/** SIGTERM the group, wait up to graceMs, then SIGKILL; resolves when empty. */
export async function stopGroup(pgid: number, graceMs = 10_000): Promise<void> {
  signalGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupMembers(pgid).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (groupMembers(pgid).length > 0) {
    signalGroup(pgid, 'SIGKILL');
    const hard = Date.now() + 5_000;
    while (groupMembers(pgid).length > 0 && Date.now() < hard) await new Promise((r) => setTimeout(r, 50));
  }
}
