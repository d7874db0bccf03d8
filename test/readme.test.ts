import fs from 'node:fs';
import path from 'node:path';
import { handledEventTypes } from '../workflows/process-stripe-event';

/** What the README tells an operator to configure matches what the code does. */

const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');

test('when an operator subscribes an endpoint to the README\'s event types, then those are exactly the types the workflows act on', () => {
  const block = readme.match(/<!-- event-types:[^>]*-->\s*```\n([\s\S]*?)```/);
  expect(block).not.toBeNull();
  const listed = block![1].split(/\s+/).filter(Boolean);

  expect([...listed].sort()).toEqual(handledEventTypes());
  expect(new Set(listed).size).toBe(listed.length);
});
