/** A process's CPU ticks and resident memory from /proc (Linux), for the load generator and bench. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** utime + stime in clock ticks, or null when the process is gone. */
export function readTicks(pid: number): number | null {
  return ticksOf(`/proc/${pid}/stat`);
}

/** The same for one thread of a process (the main thread's id is the process's). */
export function readThreadTicks(pid: number, tid: number): number | null {
  return ticksOf(`/proc/${pid}/task/${tid}/stat`);
}

function ticksOf(statPath: string): number | null {
  try {
    const stat = readFileSync(statPath, 'utf8');
    // Fields after "(comm)"; comm may contain spaces. utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

/** VmRSS in kB, or null when the process is gone. */
export function readRssKb(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Clock ticks per second (USER_HZ). */
export function clockTicks(): number {
  try {
    const n = Number(
      execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim(),
    );
    return n > 0 ? n : 100;
  } catch {
    return 100; // USER_HZ is 100 on every mainstream Linux build
  }
}
