import path from 'node:path';
import type { Logger } from 'pino';
import { loadConfig, type Config } from '../platform/config';
import {
  developmentWebhookSecret,
  ensurePrivateDir,
  projectRoot,
  startEmbeddedPostgres,
  startMailSink,
  startTemporalDevServer,
} from '../dev/embedded';
import { createLogger } from '../platform/log';
import { createMetrics } from '../platform/metrics';
import { startApi, startWorker } from './processes';
import { installTemporalRuntime } from '../platform/temporal-runtime';
import { stopOnSignals, type Running } from '../platform/lifecycle';
import { exitOnStartupError } from './startup-steps';

/** `npm start`: the whole service on one machine, with embedded defaults for what is not configured. */
async function main() {
  const settings = loadConfig(process.env, 'start');
  const log = createLogger(settings.LOG_LEVEL, undefined, settings.LOG_FORMAT);
  installTemporalRuntime(log, settings);
  const dataDir = path.resolve(projectRoot, settings.DATA_DIR);
  ensurePrivateDir(dataDir);
  const running: Running[] = [];
  stopOnSignals(log, running, settings.SHUTDOWN_TIMEOUT_MS);
  try {
    await startAll(settings, dataDir, running, log);
  } catch (err) {
    // Children run in their own process groups: stop them, or they outlive a failed start.
    for (const part of running.reverse()) await part.stop().catch(() => undefined);
    throw err;
  }
}

async function startAll(settings: Config, dataDir: string, running: Running[], log: Logger) {
  const env: NodeJS.ProcessEnv = { ...process.env };

  if (!settings.DATABASE_URL) {
    const pg = await startEmbeddedPostgres(dataDir, settings.EMBEDDED_POSTGRES_PORT);
    running.push(pg);
    env.DATABASE_URL = pg.url;
  }
  let temporalUi = settings.TEMPORAL_UI_URL;
  if (!settings.TEMPORAL_ADDRESS) {
    const temporal = await startTemporalDevServer({
      dbFile: path.join(dataDir, 'temporal.db'),
      pidFile: path.join(dataDir, 'temporal.pid'),
      port: settings.EMBEDDED_TEMPORAL_PORT,
      uiPort: settings.EMBEDDED_TEMPORAL_UI_PORT,
      namespace: settings.TEMPORAL_NAMESPACE,
    });
    running.push(temporal);
    env.TEMPORAL_ADDRESS = temporal.address;
    temporalUi = env.TEMPORAL_UI_URL = temporal.uiUrl;
  }
  let inbox: string | undefined;
  if (!settings.SMTP_URL) {
    const mail = await startMailSink(dataDir, settings.EMBEDDED_SMTP_PORT, settings.EMBEDDED_MAIL_UI_PORT);
    running.push(mail);
    env.SMTP_URL = mail.smtpUrl;
    inbox = mail.inboxUrl;
  }
  const developmentSecret = settings.STRIPE_WEBHOOK_SECRET ? undefined : developmentWebhookSecret(dataDir);
  if (developmentSecret) env.STRIPE_WEBHOOK_SECRET = developmentSecret.secret;

  const config = loadConfig(env, 'worker');
  // One process: the API's /metrics shows the worker's counters too.
  const metrics = createMetrics();
  running.push(await startWorker(config, log, { metrics }));
  const api = await startApi(config, log, { metrics });
  running.push(api);

  // Shown to the person at the terminal, not written to the logs.
  process.stdout.write(
    [
      '',
      'stripe-workflows is running',
      `  webhook endpoint  POST ${api.url}/webhooks/stripe`,
      `  health            ${api.url}/readyz`,
      `  Temporal Web UI   ${temporalUi ?? '(not configured: set TEMPORAL_UI_URL)'}`,
      `  mail inbox        ${inbox ?? `(sent through ${new URL(config.SMTP_URL!).host})`}`,
      !developmentSecret
        ? '  webhook secret    from STRIPE_WEBHOOK_SECRET'
        : developmentSecret.generated
          ? `  webhook secret    ${developmentSecret.secret} (development secret, generated now and kept in ${developmentSecret.file}; shown only this once)`
          : `  webhook secret    the development secret in ${developmentSecret.file} (cat it when you need it)`,
      `  forward events    stripe listen --forward-to localhost:${new URL(api.url).port}/webhooks/stripe`,
      '  stop              Ctrl-C',
      '',
    ].join('\n'),
  );
}

main().catch(exitOnStartupError);
