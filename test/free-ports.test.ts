import { freePort } from './support/global-setup';

// Test deployments choose their ports in advance and bind them later, in other processes, so a
// port handed out twice makes the part that binds it second fail to start.

test('when one process asks for many free ports, then no port is handed out twice', async () => {
  const ports: number[] = [];

  // From 10,000 candidates, 300 random draws repeat one about 4.5 times on average: without the
  // process's own list, this fails nearly always.
  for (let i = 0; i < 300; i += 1) ports.push(await freePort());

  expect(new Set(ports).size).toBe(ports.length);
});
