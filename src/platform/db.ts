import { createHash } from 'node:crypto';
import path from 'node:path';
import { Client, Pool, type PoolClient } from 'pg';
import { runner } from 'node-pg-migrate';
import type { Logger } from 'pino';

export type Db = Pool;

/** The pool or one transaction's client: what a query that may run inside a transaction takes. */
export type Queryable = Pick<Db, 'query'>;

/** How the pool talks to PostgreSQL: its timeouts, and whether it prepares statements. */
export interface DatabaseSettings {
  /** Opening a connection. */
  connectMs: number;
  /** One statement, enforced by the server, and by the client when the server does not answer at all. */
  statementMs: number;
  /** A transaction left open without a statement (a caller that hung mid-transaction) is ended by the server. */
  idleInTransactionMs: number;
  /** Statements with parameters are prepared once per connection (PreparingClient). */
  preparedStatements: boolean;
  /** An idle connection is closed after this long; 0 keeps it open. */
  idleMs: number;
}

export const defaultDatabaseSettings: DatabaseSettings = {
  connectMs: 5_000,
  statementMs: 30_000,
  idleInTransactionMs: 60_000,
  preparedStatements: true,
  idleMs: 0,
};

const statementNames = new Map<string, string>();

/** The same name for the same text in every process, so that a name never stands for two texts. */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `s_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return name;
}

/**
 * Prepares every statement with parameters once per connection, named by its text, and from
 * then on only binds and executes it. Unnamed, PostgreSQL parses and plans the statement again
 * on every call: that was a third of its CPU per paid invoice (BENCHMARKS.md). Every text is a
 * constant of the code (values are always parameters), so a connection holds a few dozen, and
 * they name their columns, so a column added by a migration while they are prepared changes
 * nothing they return.
 */
class PreparingClient extends Client {
  // pg's overloads cannot be forwarded one by one; the pool calls query(text, values, callback).
  override query(...args: any[]): any {
    const [text, values, callback] = args;
    if (typeof text === 'string' && Array.isArray(values) && values.length > 0) {
      return super.query({ name: statementName(text), text, values }, callback);
    }
    return (super.query as (...all: any[]) => any)(...args);
  }
}

export function createDb(databaseUrl: string, max = 10, settings: DatabaseSettings = defaultDatabaseSettings): Db {
  const pool = new Pool({
    ...(settings.preparedStatements ? { Client: PreparingClient } : {}),
    connectionString: databaseUrl,
    max,
    connectionTimeoutMillis: settings.connectMs,
    statement_timeout: settings.statementMs,
    idle_in_transaction_session_timeout: settings.idleInTransactionMs,
    // The server cannot enforce its timeout when it (or the network) does not answer at all.
    query_timeout: settings.statementMs + 1_000,
    // Kept open, a connection is not opened (and its statements prepared again) on the path of
    // the next webhook after a quiet spell; pg would close it after 10 s idle. At most `max` stay
    // open, which is also what a busy moment opens. TCP keepalives keep a connection through a
    // NAT or load balancer that drops silent ones, and expose one that died.
    idleTimeoutMillis: settings.idleMs,
    keepAlive: true,
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
