import path from 'node:path';
import { Pool, type PoolClient } from 'pg';
import { runner } from 'node-pg-migrate';
import type { Logger } from 'pino';

export type Db = Pool;

/** The pool or one transaction's client: what a query that may run inside a transaction takes. */
export type Queryable = Pick<Db, 'query'>;

/** How long a stalled or hung PostgreSQL may hold a caller, in milliseconds. */
export interface DatabaseTimeouts {
  /** Opening a connection. */
  connectMs: number;
  /** One statement, enforced by the server, and by the client when the server does not answer at all. */
  statementMs: number;
  /** A transaction left open without a statement (a caller that hung mid-transaction) is ended by the server. */
  idleInTransactionMs: number;
}

export const defaultDatabaseTimeouts: DatabaseTimeouts = { connectMs: 5_000, statementMs: 30_000, idleInTransactionMs: 60_000 };

export function createDb(databaseUrl: string, max = 10, timeouts: DatabaseTimeouts = defaultDatabaseTimeouts): Db {
  const pool = new Pool({
    connectionString: databaseUrl,
    max,
    connectionTimeoutMillis: timeouts.connectMs,
    statement_timeout: timeouts.statementMs,
    idle_in_transaction_session_timeout: timeouts.idleInTransactionMs,
    // The server cannot enforce its timeout when it (or the network) does not answer at all.
    query_timeout: timeouts.statementMs + 1_000,
  });
  // A connection lost while PostgreSQL restarts must not crash the process: the running query
  // fails (and is retried by its caller), the next one gets a fresh connection. pg emits the
  // loss as an 'error' event, on the pool for idle clients and on the client itself otherwise,
  // sometimes twice; every client gets a listener of its own so that none goes unheard.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

export const migrationsDir = path.resolve(__dirname, '..', '..', 'migrations');

/**
 * Brings the schema up to date. node-pg-migrate holds an advisory lock while it runs and fails
 * at once when another process holds it; the API and the workers start together, so wait for
 * the other one to finish instead (it then finds nothing left to do).
 */
export async function migrate(databaseUrl: string, log?: Logger, waitMs = 60_000): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      await runner({
        databaseUrl,
        dir: migrationsDir,
        direction: 'up',
        migrationsTable: 'schema_migrations',
        count: Infinity,
        checkOrder: true,
        log: (message) => log?.debug({ migration: message }, 'migration'),
      });
      return;
    } catch (err) {
      if (!/Another migration is already running/.test((err as Error).message) || Date.now() > deadline) throw err;
      log?.info('migrations: another process is migrating; waiting for it');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** Runs `fn` in one transaction on one connection; rolls back when it throws. */
export async function withTransaction<T>(db: Db, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await db.connect();
  let failed = false;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    failed = true;
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    // After a failure the connection may be broken: do not hand it to the next caller.
    client.release(failed);
  }
}

export async function isDatabaseReachable(db: Db, timeoutMs = 2_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  const answered = db.query('SELECT 1').then(
    () => true,
    () => false,
  );
  return Promise.race([answered, timedOut]).finally(() => clearTimeout(timer));
}
