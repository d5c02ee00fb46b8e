// How the kernel ran one thread over a timed loop: time on a CPU, time runnable but waiting for one, moves between CPUs.
import { readdirSync, readFileSync } from 'node:fs';

/** A thread's scheduler counters at one moment (Linux /proc; nanoseconds and counts). */
interface Counters { onCpuNs: number; waitNs: number; migrations: number }

/** Per frame over a window: µs on a CPU, µs runnable and waiting for a CPU, and moves between CPUs per 100 frames. */
export interface ThreadSchedule { onCpuUs: number; waitUs: number; migrationsPer100: number }

/**
 * The thread of process `pid` whose name starts with `namePrefix` (Linux caps names at 15 characters); undefined where
 * /proc cannot say. (A process's main thread needs no search: its id is the process's.)
 */
export function findThread(pid: number, namePrefix: string): number | undefined {
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      if (name.startsWith(namePrefix)) return Number(tid);
    }
  } catch {
    // the process is gone, or this is not Linux
  }
  return undefined;
}

function counters(pid: number, tid: number): Counters | null {
  try {
    // schedstat: time on a CPU (ns), time waiting on a run queue (ns), time slices.
    const [onCpuNs, waitNs] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    const m = /^se\.nr_migrations\s*:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/task/${tid}/sched`, 'utf8'));
    if (!m || !Number.isFinite(onCpuNs) || !Number.isFinite(waitNs)) return null;
    return { onCpuNs, waitNs, migrations: Number(m[1]) };
  } catch {
    return null;
  }
}

/**
 * Starts watching thread `tid` of process `pid`; the function it returns gives the thread's schedule per frame over
 * `frames` frames since then, or null where /proc cannot say (not Linux, the thread gone).
 */
export function watchThread(pid: number | undefined, tid: number | undefined): (frames: number) => ThreadSchedule | null {
  const before = pid !== undefined && tid !== undefined ? counters(pid, tid) : null;
  return (frames) => {
    const after = before && pid !== undefined && tid !== undefined ? counters(pid, tid) : null;
    if (!before || !after || frames <= 0) return null;
    return {
      onCpuUs: (after.onCpuNs - before.onCpuNs) / 1000 / frames,
      waitUs: (after.waitNs - before.waitNs) / 1000 / frames,
      migrationsPer100: ((after.migrations - before.migrations) * 100) / frames,
    };
  };
}
