import fs from 'node:fs';
import path from 'node:path';
import type { Child } from '../../src/dev/child-process';
import { Client } from 'pg';
import { projectRoot, type EmbeddedTemporal } from '../../src/dev/embedded';
import { testServerUrl } from './database';

async function dropClusterDatabases(prefix: string) {
  const client = new Client({ connectionString: testServerUrl });
  await client.connect();
  try {
    for (const name of [prefix, `${prefix}_visibility`]) {
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  } finally {
    await client.end();
  }
}

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { testStripeMock?: Child }).testStripeMock?.stop();
  await (globalThis as { testTemporal?: EmbeddedTemporal }).testTemporal?.stop();
  const prefix = process.env.TEST_CLUSTER_DATABASE_PREFIX;
  if (prefix) await dropClusterDatabases(prefix);
  fs.rmSync(path.join(projectRoot, '.data', 'test-servers.json'), { force: true });
}
