/** Process-table helpers for the hostile suites (Linux /proc). */
import { readdirSync, readFileSync } from 'node:fs';

/** PIDs of this process's children (zombies included), from /proc. */
export function childPids(): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) out.push(Number(entry));
    } catch {
      /* process ended while reading */
    }
  }
  return out;
}
