import path from 'node:path';
import { loadConfig } from '../platform/config';
import { developmentWebhookSecret, ensurePrivateDir, projectRoot, startEmbeddedPostgres, startMailSink } from '../dev/embedded';
import { startChild, stopLeftover, waitUntilReady, type Child } from '../dev/child-process';
import { startTemporalCluster, startTemporalUi, temporalSettings } from '../dev/temporal-cluster';
import { createLogger } from '../platform/log';
import { stopOnSignals, type Running } from '../platform/lifecycle';
import { exitOnStartupError } from './startup-steps';

/**
 * `npm run cluster`: the production topology on one machine, no Docker. PostgreSQL (embedded,
 * or DATABASE_URL) holds the service's tables and, in two databases of its own, the Temporal
 * server's state and visibility; CLUSTER_API_PROCESSES API processes on consecutive ports from
 * PORT, CLUSTER_WORKER_PROCESSES workers, and a mail sink. Each is its own OS process, as in
 * production, so any one can be killed and restarted.
 */
async function main() {
  const settings = loadConfig(process.env, 'start');
  const log = createLogger(settings.LOG_LEVEL, undefined, settings.LOG_FORMAT);
  const dataDir = path.resolve(projectRoot, settings.DATA_DIR, 'cluster');
  ensurePrivateDir(path.dirname(dataDir));
  ensurePrivateDir(dataDir);
  const running: Running[] = [];
  stopOnSignals(log, running, settings.SHUTDOWN_TIMEOUT_MS);
  try {
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (!settings.DATABASE_URL) {
      const pg = await startEmbeddedPostgres(dataDir, settings.EMBEDDED_POSTGRES_PORT);
      running.push(pg);
      env.DATABASE_URL = pg.url;
    }
    const temporal = await startTemporalCluster({
      postgresUrl: env.DATABASE_URL!,
      databasePrefix: temporalSettings().DBNAME,
      dataDir,
      port: settings.EMBEDDED_TEMPORAL_PORT,
      shards: settings.CLUSTER_HISTORY_SHARDS,
      namespace: settings.TEMPORAL_NAMESPACE,
    });
    running.push(temporal);
    env.TEMPORAL_ADDRESS = temporal.address;
    const ui = await startTemporalUi({
      address: temporal.address,
      port: settings.EMBEDDED_TEMPORAL_UI_PORT,
      dataDir,
      namespace: settings.TEMPORAL_NAMESPACE,
    });
    running.push(ui);
    env.TEMPORAL_UI_URL = ui.url;
    if (!settings.SMTP_URL) {
      const mail = await startMailSink(dataDir, settings.EMBEDDED_SMTP_PORT, settings.EMBEDDED_MAIL_UI_PORT);
      running.push(mail);
      env.SMTP_URL = mail.smtpUrl;
    }
    if (!settings.STRIPE_WEBHOOK_SECRET) env.STRIPE_WEBHOOK_SECRET = developmentWebhookSecret(dataDir).secret;

    const tsx = path.join(projectRoot, 'node_modules', '.bin', 'tsx');
    const spawnPart = async (name: string, entry: string, extra: NodeJS.ProcessEnv, nice = 0): Promise<Child & Running> => {
      const pidFile = path.join(dataDir, `${name.replace(/\W+/g, '-')}.pid`);
      await stopLeftover(pidFile);
      const child = startChild(tsx, [path.join(projectRoot, 'src', 'main', entry)], { env: { ...env, ...extra }, pidFile, nice });
      return { ...child, name };
    };
    // Below the API processes: on a saturated machine the backlog grows, not Stripe's wait.
    const workers = await Promise.all(
      Array.from({ length: settings.CLUSTER_WORKER_PROCESSES }, (_, i) => spawnPart(`worker ${i + 1}`, 'worker.ts', {}, settings.CLUSTER_WORKER_NICE)),
    );
    running.push(...workers);
    const apiUrls: string[] = [];
    for (let i = 0; i < settings.CLUSTER_API_PROCESSES; i += 1) {
      const port = settings.PORT + i;
      const api = await spawnPart(`api ${i + 1}`, 'api.ts', { PORT: String(port) });
      running.push(api);
      const url = `http://127.0.0.1:${port}`;
      await waitUntilReady(api, `API ${i + 1}`, async () => (await fetch(`${url}/readyz`)).ok);
      apiUrls.push(url);
    }
    process.stdout.write(
      [
        '',
        'stripe-workflows cluster is running',
        `  Temporal server   ${temporal.address} (PostgreSQL persistence and visibility, ${settings.CLUSTER_HISTORY_SHARDS} history shards)`,
        ...apiUrls.map((url, i) => `  API ${i + 1}             POST ${url}/webhooks/stripe`),
        `  workers           ${workers.length} processes (pids ${workers.map((w) => w.process.pid).join(', ')}, nice ${settings.CLUSTER_WORKER_NICE})`,
        `  Temporal Web UI   ${ui.url} (the UI server v2.42.1, on loopback)`,
        '  stop              Ctrl-C',
        '',
      ].join('\n'),
    );
  } catch (err) {
    for (const part of running.reverse()) await part.stop().catch(() => undefined);
    throw err;
  }
}

main().catch(exitOnStartupError);
