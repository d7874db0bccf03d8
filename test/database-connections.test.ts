import { setTimeout as sleep } from 'node:timers/promises';
import { defaultDatabaseSettings, type Db } from '../src/platform/db';
import { singleConnectionPools } from './support/database';

const { oneConnection } = singleConnectionPools();

async function backendPid(db: Db): Promise<number> {
  const { rows } = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return rows[0].pid;
}

test('when a connection has been idle longer than the idle timeout, then the next query runs on a new one', async () => {
  const db = oneConnection({ idleMs: 200 });
  const before = await backendPid(db);

  await sleep(600);

  expect(await backendPid(db)).not.toBe(before);
});

// pg closes a connection after 10 s idle unless told otherwise; the first webhook after a quiet
// spell would then connect, and prepare its statements, on its acknowledgement's path.
test('when a connection of the default pool has been idle longer than pg would keep it, then the next query runs on the same one', async () => {
  expect(defaultDatabaseSettings.idleMs).toBe(0);
  const db = oneConnection();
  const before = await backendPid(db);

  await sleep(10_500);

  expect(await backendPid(db)).toBe(before);
}, 20_000);
