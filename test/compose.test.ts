import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { configVariables, loadConfig } from '../src/platform/config';
import { temporalSettings } from '../src/dev/temporal-cluster';
import { temporalDevServerArgs } from '../src/dev/embedded';
import { imageNodeOptions, imageRuntimeStage } from './support/image';

// No Docker engine runs where the tests run, so the compose file is checked against the
// config schema instead: what would fail at `docker compose up` fails here.
const compose = parse(fs.readFileSync(path.join(__dirname, '..', 'docker-compose.yml'), 'utf8'));
const services: Record<string, any> = compose.services;
const root = path.join(__dirname, '..');
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');

/** Runs a script with the image's `NODE_OPTIONS` and returns what it printed. */
function nodeWithImageOptions(script: string): string {
  return execFileSync(process.execPath, ['-e', script], { env: { ...process.env, NODE_OPTIONS: imageNodeOptions() }, encoding: 'utf8' });
}

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
    expect(Object.keys(services).sort()).toEqual(['api', 'mail', 'postgres', 'temporal', 'temporal-namespace', 'temporal-schema', 'temporal-ui', 'worker']);
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
    expect(temporalSettings().DB).toBe('postgres12');
    expect(services.temporal.environment.POSTGRES_SEEDS).toBe('postgres');
    expect(services['temporal-schema'].environment.SQL_HOST).toBe('postgres');
    expect(services['temporal-namespace'].environment.TEMPORAL_ADDRESS).toBe('temporal:7233');
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

  test('when the image is built, then both stages use the Node.js LTS that CI tests on (.nvmrc), and copies every source folder', () => {
    const dockerfile = read('Dockerfile');
    const lts = read('.nvmrc').trim();

    expect(Number(lts.split('.')[0]) % 2).toBe(0); // even majors become LTS
    expect([...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1])).toEqual([`node:${lts}-bookworm-slim`, `node:${lts}-bookworm-slim`]);
    for (const folder of ['src', 'workflows', 'activities', 'migrations']) expect(dockerfile).toContain(`COPY ${folder} `);
  });

  test('when the image runs, then it runs the compiled build with production dependencies only, as a user other than root', () => {
    const runtime = imageRuntimeStage();

    expect(runtime).toContain('npm ci --omit=dev');
    expect(runtime).toContain('COPY --from=build /app/dist ./dist');
    expect(runtime).not.toMatch(/tsx|npm run/);
    expect(runtime).toMatch(/^USER node$/m);
    expect(services.api.command).toEqual(['node', 'dist/src/main/api.js']);
    expect(services.worker.command).toEqual(['node', 'dist/src/main/worker.js']);
  });

  test("when the image's Node.js options are given to node, then node accepts them and keeps the young generation at 32 MiB", () => {
    // Allocates short-lived objects until the young generation has grown as far as V8 lets it.
    const script = `const v8 = require('v8'); let keep = [], max = 0;
      for (let i = 0; i < 2e6; i++) { keep.push({ i }); if (keep.length > 2e5) keep = [];
        if (i % 5e4 === 0) max = Math.max(max, v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size); }
      console.log(max);`;

    const youngBytes = Number(nodeWithImageOptions(script));

    expect(youngBytes / 2 ** 20).toBeLessThanOrEqual(32);
  });

  test("when the image's Node.js options are given to node, then every isolate's heap, the workflow thread's too, stops at 256 MiB of old generation", () => {
    // The worker runs workflows in a worker thread: an isolate of its own, which must get the same limit.
    const script = `const { Worker } = require('worker_threads');
      const limit = () => require('v8').getHeapStatistics().heap_size_limit;
      new Worker('require("worker_threads").parentPort.postMessage(require("v8").getHeapStatistics().heap_size_limit)', { eval: true })
        .once('message', (inThread) => console.log(JSON.stringify([limit(), inThread])));`;

    const limits: number[] = JSON.parse(nodeWithImageOptions(script));

    // V8's limit is the old generation plus the young one (three semi-spaces of 16 MiB).
    expect(limits.map((bytes) => bytes / 2 ** 20)).toEqual([256 + 48, 256 + 48]);
  });

  describe('the Temporal server', () => {
    const temporalServices = ['temporal-schema', 'temporal', 'temporal-namespace'];

    test('when it is set up, then it is the release npm run cluster builds, without the development-only auto-setup image', () => {
      const release = /go\.temporal\.io\/server\/cmd\/server@v(\d+\.\d+\.\d+)/.exec(read('scripts/setup.js'))![1];

      expect(services.temporal.image).toBe(`temporalio/server:${release}`);
      expect(services['temporal-schema'].image).toBe(`temporalio/admin-tools:${release}`);
      expect(services['temporal-namespace'].image).toBe(`temporalio/admin-tools:${release}`);
      expect(read('docker-compose.yml')).not.toContain('auto-setup');
    });

    test('when compose and npm run cluster set it up, then both take their settings from deploy/temporal/temporal.env', () => {
      for (const name of temporalServices) {
        expect(services[name].env_file).toBe('deploy/temporal/temporal.env');
        expect(services[name].volumes).toEqual(['./deploy/temporal:/deploy:ro']);
        for (const variable of Object.keys(temporalSettings())) expect(services[name].environment[variable]).toBeUndefined();
      }
      expect(Number(temporalSettings().NUM_HISTORY_SHARDS)).toBe(loadConfig({}, 'start').CLUSTER_HISTORY_SHARDS);
      expect(read('src/dev/temporal-cluster.ts')).toMatch(/'setup-schema\.sh'[\s\S]*'create-namespace\.sh'/);
    });

    test('when compose sets it up, then the jobs run the scripts npm run cluster runs, and the server reads the same dynamic config', () => {
      expect(services['temporal-schema'].entrypoint).toEqual(['sh', '/deploy/setup-schema.sh']);
      expect(services['temporal-namespace'].entrypoint).toEqual(['sh', '/deploy/create-namespace.sh']);
      expect(services.temporal.environment.DYNAMIC_CONFIG_FILE_PATH).toBe('/deploy/dynamicconfig.yaml');
      expect(read('deploy/temporal/dynamicconfig.yaml')).toMatch(/^system\.enableActivityEagerExecution:\n\s+- value: true$/m);
    });

    test('when the server and the embedded dev server start, then both run with the same dynamic config', () => {
      const cluster: Record<string, Array<{ value: unknown }>> = parse(read('deploy/temporal/dynamicconfig.yaml'));
      const args = temporalDevServerArgs({ port: 7233, namespace: 'default' });
      const devServer = args.flatMap((arg, i) => (args[i - 1] === '--dynamic-config-value' ? [arg] : []));

      const clusterValues = Object.entries(cluster).map(([key, [{ value }]]) => `${key}=${String(value)}`);

      expect(clusterValues).toEqual(expect.arrayContaining(['system.enableActivityEagerExecution=true', 'history.shardIOConcurrency=4']));
      expect(devServer).toEqual(expect.arrayContaining(clusterValues));
    });

    test('when the server connects to PostgreSQL, then it uses the credentials of the postgres service', () => {
      const { POSTGRES_USER, POSTGRES_PASSWORD } = services.postgres.environment;

      expect([services.temporal.environment.POSTGRES_USER, services.temporal.environment.POSTGRES_PWD]).toEqual([POSTGRES_USER, POSTGRES_PASSWORD]);
      expect([services['temporal-schema'].environment.SQL_USER, services['temporal-schema'].environment.SQL_PASSWORD]).toEqual([POSTGRES_USER, POSTGRES_PASSWORD]);
    });

    test('when services start, then the server waits for its schema, and the API and workers for the namespace', () => {
      expect(services.temporal.depends_on['temporal-schema'].condition).toBe('service_completed_successfully');
      expect(services['temporal-namespace'].depends_on.temporal.condition).toBe('service_healthy');
      for (const name of ['api', 'worker']) expect(services[name].depends_on['temporal-namespace'].condition).toBe('service_completed_successfully');
    });
  });

  test('when the workers and the API share a busy host, then the workers get a tenth of the CPU weight of the API and the engine', () => {
    const weight = (name: string) => Number(services[name].cpu_shares ?? 1024); // Docker's default

    expect(weight('worker')).toBe(102);
    for (const name of ['api', 'temporal', 'postgres']) expect(weight(name)).toBe(1024);
  });

  test('when the stack runs, then every long-running service has a healthcheck', () => {
    const longRunning = Object.keys(services).filter((name) => !services[name].entrypoint);

    expect(longRunning.sort()).toEqual(['api', 'mail', 'postgres', 'temporal', 'temporal-ui', 'worker']);
    for (const name of longRunning) expect(services[name].healthcheck?.test?.length).toBeGreaterThan(1);
  });

  test('when a long-running service exits (a crash, the heap limit), then compose starts it again', () => {
    const longRunning = Object.keys(services).filter((name) => !services[name].entrypoint);

    for (const name of longRunning) expect([name, services[name].restart]).toEqual([name, 'unless-stopped']);
  });

  test('when the worker healthcheck asks, then it asks the port the worker serves /healthz on', () => {
    expect(services.worker.healthcheck.test.join(' ')).toContain(`localhost:${services.worker.environment.WORKER_METRICS_PORT}/healthz`);
  });
});
