import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../src/dev/embedded';

jest.setTimeout(60_000);

let dataDir: string;

beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-embedded-pg-'));
  fs.chmodSync(dataDir, 0o755);
});

afterEach(() => {
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('when another server still runs on the data directory, then the start fails with PostgreSQL’s own reason', () => {
  const tsx = path.join(projectRoot, 'node_modules', '.bin', 'tsx');

  const output = execFileSync(tsx, ['test/support/second-embedded-postgres.ts', dataDir], { cwd: projectRoot, encoding: 'utf8' });

  expect(output).toMatch(/^Embedded PostgreSQL did not start\n.*FATAL: +lock file "postmaster.pid" already exists/m);
  expect(output).toMatch(/HINT: +Is another postmaster \(PID \d+\) running in data directory/);
});
