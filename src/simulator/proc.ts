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

/**
 * The whole machine's CPU time in clock ticks from /proc/stat's first line: `busy` (user, nice,
 * system, irq, softirq, steal) and `total` (busy, idle and iowait); null off Linux.
 */
export function readMachineTicks(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
    // user nice system idle iowait irq softirq steal
    const busy = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + (f[7] ?? 0);
    const total = busy + f[3]! + f[4]!;
    return Number.isFinite(total) ? { busy, total } : null;
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
