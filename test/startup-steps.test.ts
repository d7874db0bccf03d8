import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './support/global-setup';
import { createTestDatabase } from './support/database';
import { startupStep } from '../src/main/startup-steps';

// What a user sees when `npm run migrate`, `npm run api` or `npm run worker` cannot get going:
// one line naming the setting to look at, no driver stack trace, no password.
jest.setTimeout(60_000);

const root = path.join(__dirname, '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');

async function run(entry: string, env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const settings = { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env };
  try {
    await promisify(execFile)(tsx, [path.join(root, 'src', 'main', entry)], { env: settings, cwd: root, timeout: 45_000 });
    return { code: 0, stderr: '' };
  } catch (err) {
    const failed = err as { code: number; stderr: string };
    return { code: failed.code, stderr: failed.stderr };
  }
}

test('when DATABASE_URL is missing, then npm run migrate says it is required', async () => {
  const { code, stderr } = await run('migrate.ts', {});

  expect(code).toBe(1);
  expect(stderr).toBe('Invalid configuration:\n  - DATABASE_URL: is required for `npm run migrate`\n');
});

test('when PostgreSQL cannot be reached, then migrate and the API say which database, without its password', async () => {
  const port = await freePort();
  const databaseUrl = `postgres://bob:s3cret-pw@127.0.0.1:${port}/books`;
  const expected = `Start-up failed: could not migrate the database at 127.0.0.1:${port}/books (DATABASE_URL): connect ECONNREFUSED 127.0.0.1:${port}\n`;

  const [migrate, api] = await Promise.all([
    run('migrate.ts', { DATABASE_URL: databaseUrl }),
    run('api.ts', { DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: '127.0.0.1:7233', STRIPE_WEBHOOK_SECRET: 'whsec_test', PORT: String(await freePort()) }),
  ]);

  for (const { code, stderr } of [migrate, api]) {
    expect(code).toBe(1);
    expect(stderr).toBe(expected);
    expect(stderr).not.toContain('s3cret-pw');
  }
});

test('when Temporal cannot be reached, then the worker says at which address', async () => {
  const database = await createTestDatabase();
  try {
    const port = await freePort();

    const { code, stderr } = await run('worker.ts', { DATABASE_URL: database.url, TEMPORAL_ADDRESS: `127.0.0.1:${port}`, SMTP_URL: 'smtp://127.0.0.1:25' });

    expect(code).toBe(1);
    expect(stderr).toMatch(new RegExp(`^Start-up failed: could not use Temporal at 127\\.0\\.0\\.1:${port} \\(TEMPORAL_ADDRESS\\): .*ECONNREFUSED 127\\.0\\.0\\.1:${port}\\.?\\n$`));
  } finally {
    await database.drop();
  }
});

test('when every address of a host refused, then the step says what the first refusal said', async () => {
  const refused = new AggregateError([new Error('connect ECONNREFUSED ::1:5432'), new Error('connect ECONNREFUSED 127.0.0.1:5432')]);

  const step = startupStep('migrate the database at localhost:5432/books (DATABASE_URL)', () => Promise.reject(refused));

  await expect(step).rejects.toMatchObject({ message: 'could not migrate the database at localhost:5432/books (DATABASE_URL): connect ECONNREFUSED ::1:5432' });
});
