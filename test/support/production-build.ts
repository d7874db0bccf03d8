import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../src/dev/embedded';

/** A part of the service as the image runs it: `node <dir>/src/main/<part>.js`. */
export type ServicePart = 'api' | 'worker';

export interface ProductionBuild {
  entry(part: ServicePart): string;
}

/**
 * What the image runs (`npm run build`): the compiled JavaScript and the migrations, written to
 * `dir`, beside the project's packages as `npm ci --omit=dev` puts them next to the build.
 */
export async function buildForProduction(dir: string): Promise<ProductionBuild> {
  await promisify(execFile)(path.join(projectRoot, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json', '--outDir', dir], { cwd: projectRoot });
  fs.cpSync(path.join(projectRoot, 'migrations'), path.join(dir, 'migrations'), { recursive: true });
  fs.symlinkSync(path.join(projectRoot, 'node_modules'), path.join(dir, 'node_modules'));
  return { entry: (part) => path.join(dir, 'src', 'main', `${part}.js`) };
}
