/** A process whose one part never stops: `test/shutdown.test.ts` checks the shutdown deadline ends it. */
import { stopOnSignals } from '../../src/platform/lifecycle';
import { createLogger } from '../../src/platform/log';

stopOnSignals(createLogger('silent'), [{ name: 'hung', stop: () => new Promise<void>(() => undefined) }], Number(process.argv[2]));
setInterval(() => undefined, 60_000);
console.log('ready');
