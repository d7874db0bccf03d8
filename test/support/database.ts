import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createDb, defaultDatabaseSettings, migrate, type DatabaseSettings, type Db } from '../../src/platform/db';

/** The PostgreSQL server tests create their databases on. */
export const testServerUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  url: string;
  db: Db;
  drop(): Promise<void>;
}

/** A fresh, migrated database of its own, so test files never see each other's rows. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `sw_test_${randomBytes(6).toString('hex')}`;
  await withAdmin((admin) => admin.query(`CREATE DATABASE ${name}`));
  const url = new URL(testServerUrl);
  url.pathname = `/${name}`;
  await migrate(url.toString());
  const db = createDb(url.toString(), 20);
  return {
    url: url.toString(),
    db,
    async drop() {
      await db.end();
      await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/**
 * A migrated database for the test file, and pools of one connection on it (so that every query
 * of a pool runs on the same session while it is kept), all ended when the file's tests are done.
 */
export function singleConnectionPools(): { oneConnection(settings?: Partial<DatabaseSettings>): Db } {
  let database: TestDatabase | undefined;
  const pools: Db[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.end()));
    await database?.drop();
  });
  return {
    oneConnection(settings = {}) {
      const pool = createDb(database!.url, 1, { ...defaultDatabaseSettings, ...settings });
      pools.push(pool);
      return pool;
    },
  };
}

async function withAdmin<T>(fn: (admin: Client) => Promise<T>): Promise<T> {
  const admin = new Client({ connectionString: testServerUrl });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}

/** How many rows a query returns: `countRows(db, 'SELECT 1 FROM payments WHERE invoice_id = $1', [id])`. */
export async function countRows(db: Db, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM (${sql}) AS counted`, params);
  return rows[0].n;
}
