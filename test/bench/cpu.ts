import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/** What a bench step's CPU is split into: the deployment's processes and the bench itself (the load). */
export type CpuPart = 'worker' | 'engine' | 'postgres' | 'api' | 'load';

export const cpuParts: readonly CpuPart[] = ['worker', 'engine', 'postgres', 'api', 'load'];

/** The process of each part; every descendant counts with it (PostgreSQL's backends, the node that tsx runs). */
export type CpuRoots = Record<Exclude<CpuPart, 'load'>, number | undefined>;

export interface ProcessRow {
  pid: number;
  ppid: number;
  /** User and system time of the process (all its threads). */
  ownSeconds: number;
  /** The same for its children that have exited and been waited for (a backend that closed). */
  reapedSeconds: number;
}

let ticksPerSecond: number | undefined;

/** Every process's parent and CPU time, from /proc; undefined where there is no /proc. */
export function processTable(): ProcessRow[] | undefined {
  if (!fs.existsSync('/proc/self/stat')) return undefined;
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const rows: ProcessRow[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // it exited while the table was read
    }
    // The command name (field 2) may hold spaces and parentheses, so fields are counted from its
    // closing parenthesis: state, ppid, ..., utime (14), stime (15), cutime (16), cstime (17).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    rows.push({
      pid: Number(entry),
      ppid: fields[1],
      ownSeconds: (fields[11] + fields[12]) / ticksPerSecond,
      reapedSeconds: (fields[13] + fields[14]) / ticksPerSecond,
    });
  }
  return rows;
}

/**
 * CPU seconds each part has used so far. A part is its process and its descendants, with the
 * time of descendants that have exited (a pool connection's backend that closed stays counted in
 * the postmaster's). The load is the bench's own process alone: every other part descends from it.
 */
export function cpuSeconds(roots: CpuRoots, loadPid: number, table: ProcessRow[]): Record<CpuPart, number> {
  const byPid = new Map(table.map((row) => [row.pid, row]));
  const children = new Map<number, ProcessRow[]>();
  for (const row of table) {
    if (!children.has(row.ppid)) children.set(row.ppid, []);
    children.get(row.ppid)!.push(row);
  }
  const tree = (pid: number | undefined): number => {
    const row = pid === undefined ? undefined : byPid.get(pid);
    if (!row) return NaN;
    return (children.get(row.pid) ?? []).reduce((sum, child) => sum + tree(child.pid), row.ownSeconds + row.reapedSeconds);
  };
  return {
    worker: tree(roots.worker),
    engine: tree(roots.engine),
    postgres: tree(roots.postgres),
    api: tree(roots.api),
    load: byPid.get(loadPid)?.ownSeconds ?? NaN,
  };
}

/** CPU per processed event over one step, in ms, and how many cores were busy on average. */
export interface StepCpu {
  msPerEvent: Record<CpuPart, number>;
  /** All parts together (a part whose process was not found counts nothing). */
  allMsPerEvent: number;
  coresBusy: number;
}

/** Starts counting now; `stop(processed)` gives the step's CPU per processed event (undefined without /proc). */
export function countCpu(roots: () => CpuRoots): { stop(processed: number): StepCpu | undefined } {
  const read = () => {
    const table = processTable();
    return table && cpuSeconds(roots(), process.pid, table);
  };
  const before = read();
  const startedAt = Date.now();
  return {
    stop(processed) {
      const after = read();
      if (!before || !after) return undefined;
      const used = (part: CpuPart) => after[part] - before[part];
      const msPerEvent = Object.fromEntries(cpuParts.map((part) => [part, (used(part) * 1000) / processed])) as Record<CpuPart, number>;
      const total = cpuParts.reduce((sum, part) => sum + (Number.isFinite(used(part)) ? used(part) : 0), 0);
      return { msPerEvent, allMsPerEvent: (total * 1000) / processed, coresBusy: total / ((Date.now() - startedAt) / 1000) };
    },
  };
}
