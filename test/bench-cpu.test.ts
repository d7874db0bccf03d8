import { cpuSeconds, processTable, type ProcessRow } from './bench/cpu';

const row = (pid: number, ppid: number, ownSeconds: number, reapedSeconds = 0): ProcessRow => ({ pid, ppid, ownSeconds, reapedSeconds });

describe("the bench's CPU count", () => {
  test('when a part has descendants, some exited, then it counts them all, and the load counts only the bench process', () => {
    const table = [
      row(100, 1, 5), // the bench: every part descends from it
      row(200, 100, 1, 0.5), // the postmaster, with backends that closed
      row(201, 200, 2),
      row(202, 200, 3),
      row(300, 100, 0.25), // tsx
      row(301, 300, 4), // the worker's node, under tsx
    ];

    const seconds = cpuSeconds({ postgres: 200, worker: 300, api: undefined, engine: 999 }, 100, table);

    expect(seconds.postgres).toBe(6.5);
    expect(seconds.worker).toBe(4.25);
    expect(seconds.load).toBe(5);
    expect(seconds.api).toBeNaN();
    expect(seconds.engine).toBeNaN();
  });

  test('when this process works, then its row in /proc grows by about that much CPU', () => {
    const before = processTable()!.find((entry) => entry.pid === process.pid)!;

    const until = process.cpuUsage();
    let spent = 0;
    while (spent < 300_000) {
      const used = process.cpuUsage(until);
      spent = used.user + used.system;
    }
    const after = processTable()!.find((entry) => entry.pid === process.pid)!;

    expect(after.ownSeconds - before.ownSeconds).toBeGreaterThanOrEqual(0.2);
    expect(after.ownSeconds - before.ownSeconds).toBeLessThan(2);
  });
});
