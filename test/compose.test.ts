import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { configVariables, loadConfig } from '../src/platform/config';

// No Docker engine runs where the tests run, so the compose file is checked against the
// config schema instead: what would fail at `docker compose up` fails here.
const compose = parse(fs.readFileSync(path.join(__dirname, '..', 'docker-compose.yml'), 'utf8'));
const services: Record<string, any> = compose.services;

/** Compose's `${NAME:-default}` and `${NAME:?message}`, with what an operator would export. */
function interpolate(value: string, exported: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::?([-?])([^}]*))?\}/g, (_match, name: string, kind?: string, rest?: string) => {
    if (exported[name] !== undefined) return exported[name];
    if (kind === '?') throw new Error(`${name} must be exported: ${rest}`);
    return kind === '-' ? (rest ?? '') : '';
  });
}

function environmentOf(service: string, exported: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = services[service].environment;
  return Object.fromEntries(Object.entries(env).map(([name, value]) => [name, interpolate(String(value), exported)]));
}

describe('docker-compose.yml', () => {
  test('when parsed, then it has the whole production-like stack', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'mail', 'postgres', 'temporal', 'temporal-ui', 'worker']);
  });

  test.each(['api', 'worker'])('when the %s environment is validated by the config schema, then it passes', (name) => {
    const env = environmentOf(name, { STRIPE_WEBHOOK_SECRET: 'whsec_from_operator' });

    expect(() => loadConfig(env, name as 'api' | 'worker')).not.toThrow();
  });

  test.each(['api', 'worker'])('when the %s environment is read, then every variable is one the service knows', (name) => {
    const unknown = Object.keys(services[name].environment).filter((v) => !configVariables.includes(v as never));

    expect(unknown).toEqual([]);
  });

  test('when the operator forgot the webhook secret, then compose refuses to start the API', () => {
    expect(() => environmentOf('api')).toThrow(/STRIPE_WEBHOOK_SECRET must be exported/);
  });

  test('when images are listed, then each is pinned to a version', () => {
    const images = Object.values(services)
      .map((service) => service.image)
      .filter(Boolean);

    expect(images.length).toBeGreaterThanOrEqual(4);
    for (const image of images) expect(image).toMatch(/^[\w./-]+:\d[\w.-]*$/);
  });

  test('when services point at each other, then the hosts and ports match the stack', () => {
    const api = environmentOf('api', { STRIPE_WEBHOOK_SECRET: 'whsec_x' });
    const worker = environmentOf('worker');

    expect(api.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(new URL(worker.DATABASE_URL).host).toBe('postgres:5432');
    expect(new URL(worker.SMTP_URL).hostname).toBe('mail');
    expect(api.TEMPORAL_TASK_QUEUE).toBe(worker.TEMPORAL_TASK_QUEUE);
    expect(services.temporal.environment.DB).toBe('postgres12');
  });

  test('when the worker is scaled, then nothing in it is bound to one instance', () => {
    expect(services.worker.ports).toBeUndefined();
    expect(services.worker.container_name).toBeUndefined();
  });

  test('when ports are published, then only the webhook listens on every interface; the Web UI, the mail catcher and the admin listener on loopback only', () => {
    const published = Object.entries(services).flatMap(([name, service]) => (service.ports ?? []).map((port: string) => [name, String(port)]));

    expect(published).toEqual(
      expect.arrayContaining([
        ['temporal-ui', '127.0.0.1:8233:8080'],
        ['mail', '127.0.0.1:1080:1080'],
        ['api', '3000:3000'],
        ['api', '127.0.0.1:3001:3001'],
      ]),
    );
    const everyInterface = published.filter(([, port]) => !port.startsWith('127.0.0.1:'));
    expect(everyInterface).toEqual([['api', '3000:3000']]);
  });

  test('when the Web UI starts without the operator saying otherwise, then its write actions are off', () => {
    const ui = environmentOf('temporal-ui');

    expect(ui.TEMPORAL_DISABLE_WRITE_ACTIONS).toBe('true');
    expect(environmentOf('temporal-ui', { TEMPORAL_UI_DISABLE_WRITE_ACTIONS: 'false' }).TEMPORAL_DISABLE_WRITE_ACTIONS).toBe('false');
  });

  test('when the stack starts without the dev profile, then there is no mail catcher, and the worker sends to the SMTP_URL the operator gives', () => {
    expect(services.mail.profiles).toEqual(['dev']);
    expect(environmentOf('worker', { SMTP_URL: 'smtp://relay.example.com:587' }).SMTP_URL).toBe('smtp://relay.example.com:587');
  });

  test('when the API starts, then the admin API and /metrics are on their own port, not on the webhook port', () => {
    const api = environmentOf('api', { STRIPE_WEBHOOK_SECRET: 'whsec_x' });

    expect(api.ADMIN_PORT).toBe('3001');
    expect(loadConfig(api, 'api').ADMIN_PORT).toBe(3001);
  });

  test('when the image is built, then the Dockerfile pins its base and copies every source folder', () => {
    const dockerfile = fs.readFileSync(path.join(__dirname, '..', 'Dockerfile'), 'utf8');

    expect(dockerfile).toMatch(/^FROM node:\d+\.\d+\.\d+/m);
    for (const folder of ['src', 'workflows', 'activities', 'migrations']) expect(dockerfile).toContain(`COPY ${folder} `);
  });

  test('when the image runs, then it runs the compiled build with production dependencies only', () => {
    const dockerfile = fs.readFileSync(path.join(__dirname, '..', 'Dockerfile'), 'utf8');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('FROM '));

    expect(runtime).toContain('npm ci --omit=dev');
    expect(runtime).toContain('COPY --from=build /app/dist ./dist');
    expect(runtime).not.toMatch(/tsx|npm run/);
    expect(services.api.command).toEqual(['node', 'dist/src/main/api.js']);
    expect(services.worker.command).toEqual(['node', 'dist/src/main/worker.js']);
  });
});
