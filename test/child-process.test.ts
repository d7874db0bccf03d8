import { startChild, waitUntilReady } from '../src/dev/child-process';

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
