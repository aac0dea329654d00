/** Search-space bounds in the study editor: tiny ones stay readable, and both forms read back. */
import { describe, expect, it } from 'vitest';
import { boundText, parseBound } from '../../src/renderer/src/pages/tuning/boundText';

describe('search-space bound text', () => {
  it('writes tiny and huge bounds in exponent form, and ordinary ones plainly', () => {
    expect(boundText(1e-6)).toBe('1e-6');
    expect(boundText(2.5e-4)).toBe('2.5e-4');
    expect(boundText(3e7)).toBe('3e7');
    expect(boundText(0.03)).toBe('0.03');
    expect(boundText(0)).toBe('0');
    expect(boundText(512)).toBe('512');
  });

  it('reads exponent and decimal forms, and refuses what is no number', () => {
    expect(parseBound('1e-6')).toBe(1e-6);
    expect(parseBound(' 0.000001 ')).toBe(1e-6);
    expect(parseBound(boundText(3e7))).toBe(3e7);
    expect(parseBound('')).toBeNull();
    expect(parseBound('abc')).toBeNull();
    expect(parseBound('Infinity')).toBeNull();
  });
});
