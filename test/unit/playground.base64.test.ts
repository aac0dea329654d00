/** The renderer's base64 encoder for uploads agrees with Node's, including across its chunk boundary. */
import { describe, expect, it } from 'vitest';
import { bytesToBase64, formatBytes } from '../../src/renderer/src/pages/playground/base64';

describe('bytesToBase64', () => {
  it('encodes like Buffer for empty, short and multi-chunk inputs', () => {
    for (const length of [0, 1, 2, 3, 0x8000 - 1, 0x8000, 0x8000 * 3 + 7]) {
      const bytes = Uint8Array.from({ length }, (_, index) => (index * 7919) % 256);
      expect(bytesToBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
    }
  });

  it('formats sizes for people', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(10 * 1024 * 1024)).toBe('10.0 MiB');
  });
});
