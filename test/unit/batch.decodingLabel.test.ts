import { describe, expect, it } from 'vitest';
import { decodingLabel } from '../../src/main/batch/service';
import { completeDecoding } from '../../src/main/ml/captioning/decoding';

describe("a batch output's decoding column", () => {
  it('names the consensus a job decoded with, and nothing for plain decoding', () => {
    expect(decodingLabel(completeDecoding({}, 20))).toBe('beam 3, length penalty 1, length 1-20');
    expect(decodingLabel(completeDecoding({ strategy: 'greedy', converseConsensus: true, relationSearch: true }, 20))).toBe('greedy, length 1-20, converse consensus, relation search');
    expect(decodingLabel(completeDecoding({ mirrorConsensus: true, converseConsensus: true, relationSearch: true }, 20))).toBe(
      'beam 3, length penalty 1, length 1-20, mirror and converse consensus, relation search',
    );
  });
});
