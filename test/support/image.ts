import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../src/dev/embedded';

/** The Dockerfile's last stage: what the image runs. */
export function imageRuntimeStage(): string {
  const dockerfile = fs.readFileSync(path.join(projectRoot, 'Dockerfile'), 'utf8');
  return dockerfile.slice(dockerfile.lastIndexOf('FROM '));
}

/** The Node.js options the image runs the API and the worker with (`ENV NODE_OPTIONS="..."`). */
export function imageNodeOptions(): string {
  const options = /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(imageRuntimeStage())?.[1];
  if (options === undefined) throw new Error('The Dockerfile\'s last stage has no ENV NODE_OPTIONS="..." line.');
  return options;
}
