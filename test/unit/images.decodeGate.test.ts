/**
 * The gate that lets a failed decode be tried again alone (libvips shares
 * one error buffer between its threads): a decode run alone waits for every
 * decode in flight, and decodes that start while it waits or runs wait for it.
 */
import { describe, expect, it } from 'vitest';
import { DecodeGate } from '../../src/main/lib/data/images/decode';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('DecodeGate', () => {
  it('runs a decode alone: after the ones in flight, before the ones that start meanwhile', async () => {
    const gate = new DecodeGate();
    const events: string[] = [];
    const first = deferred();
    const second = deferred();
    const inFlight = [
      gate.shared(async () => {
        events.push('a start');
        await first.promise;
        events.push('a end');
      }),
      gate.shared(async () => {
        events.push('b start');
        await second.promise;
        events.push('b end');
      }),
    ];
    await tick();
    const alone = gate.alone(async () => {
      events.push('retry');
      return 'decoded';
    });
    const later = gate.shared(async () => {
      events.push('c start');
    });
    await tick();
    expect(events).toEqual(['a start', 'b start']);
    first.resolve();
    await tick();
    expect(events).toEqual(['a start', 'b start', 'a end']);
    second.resolve();
    await Promise.all([...inFlight, later]);
    expect(await alone).toBe('decoded');
    expect(events).toEqual(['a start', 'b start', 'a end', 'b end', 'retry', 'c start']);
  });

  it('runs at once when nothing is in flight, and releases the gate when the work fails', async () => {
    const gate = new DecodeGate();
    await expect(gate.alone(async () => Promise.reject(new Error('still corrupt')))).rejects.toThrow('still corrupt');
    expect(await gate.shared(async () => 7)).toBe(7);
    expect(await gate.alone(async () => 8)).toBe(8);
  });
});
