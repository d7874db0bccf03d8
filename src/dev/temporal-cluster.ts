import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { allSearchAttributes } from '../../workflows/contracts';
import { startChild, stopLeftover, waitUntilReady } from './child-process';
import { ensurePortFree, projectRoot, temporalCliPath, type EmbeddedTemporal } from './embedded';
import type { Running } from '../platform/lifecycle';

/**
 * The production topology's engine on one machine: the Temporal server (built from its
 * release, not the CLI's dev server) keeping its state and its visibility in PostgreSQL, with
 * a configurable number of history shards, the namespace and our search attributes registered.
 */

const run = promisify(execFile);
const tool = (name: string) => path.join(projectRoot, '.tools', 'bin', name);
const schemaDir = path.join(projectRoot, '.tools', 'temporal-schema');

export interface TemporalClusterOptions {
  /** The PostgreSQL server to keep the two databases in (`<prefix>` and `<prefix>_visibility`). */
  postgresUrl: string;
  databasePrefix: string;
  /** Where the server's config is written. */
  dataDir: string;
  /** The frontend's gRPC port; history, matching and worker take the next three, membership +100. */
  port: number;
  shards: number;
  namespace: string;
  /** Where the server serves its own Prometheus metrics (loopback); none when omitted. */
  metricsPort?: number;
}

/** The scripts and settings compose runs too (deploy/temporal): one source for both topologies. */
const deployDir = path.join(projectRoot, 'deploy', 'temporal');

/** deploy/temporal/temporal.env: `NAME=value` lines, `#` comments. */
export function temporalSettings(): Record<string, string> {
  const lines = fs.readFileSync(path.join(deployDir, 'temporal.env'), 'utf8').split('\n');
  return Object.fromEntries(lines.filter((line) => /^\w+=/.test(line)).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1).trim()]));
}

/** Runs one of the deploy scripts with only the variables it reads (not the caller's Temporal or TLS settings). */
function runDeployScript(script: string, env: Record<string, string>) {
  return run('sh', [path.join(deployDir, script)], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(), ...temporalSettings(), ...env } });
}

/** Both databases created when missing and their schemas brought up to the server's version. */
async function prepareDatabases(url: URL, prefix: string) {
  await runDeployScript('setup-schema.sh', {
    SQL_TOOL: tool('temporal-sql'),
    SCHEMA_DIR: schemaDir,
    SQL_HOST: url.hostname,
    SQL_PORT: url.port || '5432',
    SQL_USER: decodeURIComponent(url.username || 'postgres'),
    SQL_PASSWORD: decodeURIComponent(url.password),
    DBNAME: prefix,
    VISIBILITY_DBNAME: `${prefix}_visibility`,
  });
}

function serverConfig(options: TemporalClusterOptions, url: URL, dynamicConfigFile: string): string {
  const store = (database: string, connections: number) => `
      sql:
        pluginName: postgres12
        databaseName: ${database}
        connectAddr: "${url.hostname}:${url.port || '5432'}"
        connectProtocol: tcp
        user: "${decodeURIComponent(url.username || 'postgres')}"
        password: "${decodeURIComponent(url.password)}"
        maxConns: ${connections}
        maxIdleConns: ${connections}
        maxConnLifetime: 1h`;
  const service = (offset: number) => `
    rpc:
      grpcPort: ${options.port + offset}
      membershipPort: ${options.port + 100 + offset}
      bindOnLocalHost: true`;
  const metrics =
    options.metricsPort === undefined
      ? ''
      : `
  metrics:
    prometheus:
      listenAddress: "127.0.0.1:${options.metricsPort}"
      handlerPath: /metrics`;
  return `log:
  stdout: true
  level: warn
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: ${options.shards}
  datastores:
    default:${store(options.databasePrefix, 20)}
    visibility:${store(`${options.databasePrefix}_visibility`, 4)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"${metrics}
services:
  frontend:${service(0)}
  history:${service(1)}
  matching:${service(2)}
  worker:${service(3)}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "127.0.0.1:${options.port}"
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: "${dynamicConfigFile}"
  pollInterval: 10s
`;
}

/** A namespace just created takes a moment to reach the frontend's namespace cache. */
async function searchAttributesOf(cli: (...args: string[]) => Promise<{ stdout: string }>, namespace: string): Promise<string> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return (await cli('operator', 'search-attribute', 'list', '--namespace', namespace, '--output', 'json')).stdout;
    } catch (err) {
      if (attempt >= 60 || !/not found/i.test(String((err as { stderr?: string }).stderr))) throw err;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

async function registerNamespace(address: string, namespace: string) {
  await runDeployScript('create-namespace.sh', { TEMPORAL_CLI: temporalCliPath(), TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace });
  const cli = (...args: string[]) => run(temporalCliPath(), [...args, '--address', address]);
  const existing = await searchAttributesOf(cli, namespace);
  for (const key of allSearchAttributes) {
    // Registered on an earlier start (the databases outlive the server): nothing to add.
    if (existing.includes(`"${key.name}"`)) continue;
    await cli('operator', 'search-attribute', 'create', '--namespace', namespace, '--name', key.name, '--type', 'Keyword');
  }
}

export async function startTemporalCluster(options: TemporalClusterOptions): Promise<EmbeddedTemporal> {
  const root = path.resolve(options.dataDir, 'temporal-cluster');
  fs.mkdirSync(path.join(root, 'config'), { recursive: true });
  const pidFile = path.join(root, 'server.pid');
  await stopLeftover(pidFile);
  for (const offset of [0, 1, 2, 3]) await ensurePortFree(options.port + offset, 'the Temporal cluster port');
  const url = new URL(options.postgresUrl);
  await prepareDatabases(url, options.databasePrefix);
  const dynamicConfigFile = path.join(deployDir, 'dynamicconfig.yaml');
  fs.writeFileSync(path.join(root, 'config', 'cluster.yaml'), serverConfig(options, url, dynamicConfigFile), { mode: 0o600 });

  const child = startChild(tool('temporal-server'), ['--root', root, '--config', 'config', '--env', 'cluster', '--allow-no-auth', 'start'], { pidFile });
  const address = `127.0.0.1:${options.port}`;
  await waitUntilReady(child, 'The Temporal server', async () => {
    const connection = await Connection.connect({ address, connectTimeout: 1000 });
    try {
      await connection.workflowService.getSystemInfo({});
      return true;
    } finally {
      await connection.close();
    }
  });
  await registerNamespace(address, options.namespace);
  return { name: 'temporal-server', address, uiUrl: '', pid: child.process.pid, stop: () => child.stop() };
}

/**
 * The Temporal Web UI for the server: the UI server release the CLI embeds (ui-server v2.42.1),
 * built on its own by `setup --cluster`, pointed at the frontend. Loopback only.
 */
export async function startTemporalUi(options: { address: string; port: number; dataDir: string; namespace: string }): Promise<Running & { url: string }> {
  const root = path.resolve(options.dataDir, 'temporal-ui');
  fs.mkdirSync(path.join(root, 'config'), { recursive: true });
  const pidFile = path.join(root, 'ui.pid');
  await stopLeftover(pidFile);
  await ensurePortFree(options.port, 'EMBEDDED_TEMPORAL_UI_PORT');
  fs.writeFileSync(
    path.join(root, 'config', 'cluster.yaml'),
    [
      `temporalGrpcAddress: ${options.address}`,
      'host: 127.0.0.1',
      `port: ${options.port}`,
      'enableUi: true',
      `defaultNamespace: ${options.namespace}`,
      'refreshInterval: 1m',
      '',
    ].join('\n'),
  );
  const child = startChild(tool('temporal-ui'), ['--root', root, '--config', 'config', '--env', 'cluster', 'start'], { pidFile });
  const url = `http://127.0.0.1:${options.port}`;
  await waitUntilReady(child, 'The Temporal Web UI', async () => (await fetch(url)).ok);
  return { name: 'temporal-ui', url, stop: () => child.stop() };
}
