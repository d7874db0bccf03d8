import path from 'node:path';
import { Pool, type PoolClient } from 'pg';
import { runner } from 'node-pg-migrate';
import type { Logger } from 'pino';

export type Db = Pool;

export function createDb(databaseUrl: string, max = 10): Db {
  const pool = new Pool({ connectionString: databaseUrl, max });
  // An idle client losing its connection (PostgreSQL restarting) must not crash the process;
  // the next query gets a fresh connection.
  pool.on('error', () => undefined);
  return pool;
}

export const migrationsDir = path.resolve(__dirname, '..', 'migrations');

/** Brings the schema up to date; safe to run from several processes at once (advisory lock). */
export async function migrate(databaseUrl: string, log?: Logger): Promise<void> {
  await runner({
    databaseUrl,
    dir: migrationsDir,
    direction: 'up',
    migrationsTable: 'schema_migrations',
    count: Infinity,
    checkOrder: true,
    log: (message) => log?.debug({ migration: message }, 'migration'),
  });
}

/** Runs `fn` in one transaction on one connection; rolls back when it throws. */
export async function withTransaction<T>(db: Db, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
