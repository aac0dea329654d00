/** A one-shot command's tasks carry its name, so the store's workers list can tell it from a worker. */
import { describe, expect, it } from 'vitest';
import { cliTaskOptions, setCommandName } from '../../src/main/cli/context';

describe('task owner of a CLI command', () => {
  it('names the tasks of a one-shot command after it, and leaves a worker\'s own owner and queue scope alone', () => {
    setCommandName('synth');
    const oneShot = cliTaskOptions(undefined);
    expect(oneShot.scope).toBe('own');
    expect(oneShot.owner).toMatchObject({ worker: 'captioner synth', pid: process.pid });

    const workerOwner = { host: 'box', pid: 7, worker: 'worker-7' };
    expect(cliTaskOptions({ scope: 'queue', owner: workerOwner }).owner).toBe(workerOwner);
    expect(cliTaskOptions({ scope: 'queue' }).owner).toBeUndefined();
    setCommandName('train');
    expect(cliTaskOptions({ scope: 'own', execute: false }).owner?.worker).toBe('captioner train');
  });
});
