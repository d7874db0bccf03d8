import { engineOf, serviceCodeOf } from '../support/deployment';
import { runChaos } from './chaos';

/**
 * `npm run chaos`: the full run. CHAOS_EVENTS (2000), CHAOS_RATE (deliveries per second, 25)
 * and CHAOS_WORKER_KILLS (4) make it smaller; ENGINE=cluster runs it on the Temporal server on
 * PostgreSQL instead of the dev server; SERVICE_CODE=source runs the API and the worker from the
 * TypeScript through tsx instead of the build. Exits 1 on any difference.
 */
async function main() {
  const events = Number(process.env.CHAOS_EVENTS ?? 2000);
  const workerKills = Number(process.env.CHAOS_WORKER_KILLS ?? 4);
  const startedAt = Date.now();
  const report = await runChaos({ events, workerKills, concurrency: 16, rate: Number(process.env.CHAOS_RATE ?? 25), engine: engineOf(process.env), code: serviceCodeOf(process.env), log: (line) => console.log(line) });
  console.log(['', ...report.lines, ''].join('\n'));
  console.log(`took ${Math.round((Date.now() - startedAt) / 1000)} s`);
  if (report.differences.length > 0) {
    console.log(`FAILED:\n  ${report.differences.join('\n  ')}`);
    process.exit(1);
  }
  console.log('exact: nothing lost, nothing doubled');
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
