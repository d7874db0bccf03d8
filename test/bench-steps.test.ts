import { stepsInTurns, type Series, type StepResult } from './bench/capacity';

/** A series whose steps drain up to `lastDraining` (deliveries/s), and which records what ran when. */
function series(name: string, lastDraining: number, log: string[]): Series {
  return {
    async step(rate) {
      log.push(`${name} ${rate}`);
      return { offered: rate, drainedAfterMs: rate <= lastDraining ? 100 : null } as StepResult;
    },
    async settle() {
      log.push(`${name} settled`);
    },
  };
}

describe("the bench's steps", () => {
  test('when two series step up, then they take turns at each rate, each settling before the other runs, and each stops at its first step that did not drain', async () => {
    const log: string[] = [];

    const [service, baseline] = await stepsInTurns({ rates: [10, 20, 40, 80, 160] }, [series('service', 20, log), series('baseline', 40, log)]);

    expect(log).toEqual([
      'service 10', 'service settled', 'baseline 10', 'baseline settled',
      'service 20', 'service settled', 'baseline 20', 'baseline settled',
      'service 40', 'service settled', 'baseline 40', 'baseline settled',
      'baseline 80', 'baseline settled',
    ]);
    expect(service.map((step) => step.offered)).toEqual([10, 20, 40]);
    expect(baseline.map((step) => step.offered)).toEqual([10, 20, 40, 80]);
  });

  test('when every step drains, then both series run to the last rate', async () => {
    const log: string[] = [];

    const [service, baseline] = await stepsInTurns({ rates: [10, 20] }, [series('service', 1_000, log), series('baseline', 1_000, log)]);

    expect([service.length, baseline.length]).toEqual([2, 2]);
  });
});
