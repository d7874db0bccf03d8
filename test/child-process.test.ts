import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { startChild, waitUntilReady, type Child } from '../src/dev/child-process';

/** A helper that dies the way a Go program panics: the reason, then a long stack trace. */
const panicking = `
  console.error('panic: listen tcp 127.0.0.1:7233: bind: address already in use');
  for (let i = 0; i < 40; i++) console.error('\\tgithub.com/example/server.go:' + i + ' +0x4a');
  process.exit(2);
`;

test('when a helper process panics with a stack trace longer than the lines kept, then the failed start still gives the reason', async () => {
  const child = startChild(process.execPath, ['-e', panicking]);

  const failure = waitUntilReady(child, 'The helper', async () => false);

  await expect(failure).rejects.toThrow(/^The helper exited with code 2:\npanic: listen tcp 127\.0\.0\.1:7233: bind: address already in use\n…\n/);
  await expect(failure).rejects.toThrow(/server\.go:39 \+0x4a$/);
});

test('when a helper process prints only a few lines before it exits, then the failed start shows them once, in order', async () => {
  const child = startChild(process.execPath, ['-e', `console.error('Error: no such flag --bogus'); console.error('usage: helper [flags]'); process.exit(1);`]);

  const failure = waitUntilReady(child, 'The helper', async () => false);

  await expect(failure).rejects.toThrow(/^The helper exited with code 1:\nError: no such flag --bogus\nusage: helper \[flags\]$/);
});

/** The nice value of each of a process's threads (Linux: field 19 of /proc/<pid>/task/<tid>/stat). */
function threadNiceValues(pid: number): number[] {
  return fs.readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

/** A node process that starts worker threads of its own, as the worker does, and says when they run. */
async function startThreadedChild(nice?: number): Promise<Child> {
  const script = `const { Worker } = require('node:worker_threads');
    for (let i = 0; i < 2; i++) new Worker('setInterval(() => {}, 1000)', { eval: true });
    setTimeout(() => console.log('threads running'), 300); setInterval(() => {}, 1000);`;
  const child = startChild(process.execPath, ['-e', script], { nice });
  await waitUntilReady(child, 'The threaded child', async () => child.output().includes('threads running'));
  return child;
}

describe('a helper process with a lower CPU share', () => {
  const children: Child[] = [];
  afterAll(async () => {
    for (const child of children) await child.stop();
  });

  test('when a child is started with nice 7, then every one of its threads, those it starts later included, runs at nice 7', async () => {
    const child = await startThreadedChild(7);
    children.push(child);

    const niceValues = threadNiceValues(child.process.pid!);

    expect(niceValues.length).toBeGreaterThan(3);
    expect(new Set(niceValues)).toEqual(new Set([7]));
  });

  test('when a child is started with nice 7 where the kernel groups sessions (autogroups), then its session runs at nice 7', async () => {
    const child = await startThreadedChild(7);
    children.push(child);
    const autogroup = `/proc/${child.process.pid}/autogroup`;
    if (!fs.existsSync(autogroup)) return expect(fs.existsSync('/proc/self/autogroup')).toBe(false);

    // The session's value is written just after the spawn; give the write a moment.
    for (let waited = 0; !fs.readFileSync(autogroup, 'utf8').includes('nice 7') && waited < 2_000; waited += 100) await sleep(100);

    expect(fs.readFileSync(autogroup, 'utf8')).toMatch(/ nice 7$/m);
  });

  test('when a child is started without a nice value, then it runs as its parent does', async () => {
    const child = await startThreadedChild();
    children.push(child);

    expect(new Set(threadNiceValues(child.process.pid!))).toEqual(new Set([Number(threadNiceValues(process.pid)[0])]));
  });
});
