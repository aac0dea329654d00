import { describe, expect, it } from 'vitest';
import { configFromPreset } from '../../src/shared/runConfig';
import { consensusLabel, consensusNames } from '../../src/shared/consensusLabel';
import { NO_CONSENSUS, usesConsensus } from '../../src/shared/consensusKinds';
import { missingRecommendedFlags, recommendedConsensus } from '../../src/shared/recommendedDecoding';

describe('the decoding a run recommends', () => {
  it('is read from a stored config, and a config stored before the section recommends nothing', () => {
    const grounded = configFromPreset('shapes-grounded', { dataset: { path: '/d' } });
    expect(recommendedConsensus(grounded)).toEqual({ mirrorConsensus: true, converseConsensus: true, relationSearch: true });
    expect(usesConsensus(recommendedConsensus(grounded))).toBe(true);
    const { decoding: _decoding, ...older } = grounded;
    expect(recommendedConsensus(older)).toEqual(NO_CONSENSUS);
    expect(usesConsensus(NO_CONSENSUS)).toBe(false);
    expect(recommendedConsensus({ decoding: { mirrorConsensus: 'yes', relationSearch: true } })).toEqual({ mirrorConsensus: false, converseConsensus: false, relationSearch: true });
    expect(recommendedConsensus(null)).toEqual(NO_CONSENSUS);
    expect(recommendedConsensus({ decoding: [true] })).toEqual(NO_CONSENSUS);
  });

  it('names the flags a decoding leaves out, in the usage order, and none for sampling', () => {
    const all = { mirrorConsensus: true, converseConsensus: true, relationSearch: true };
    expect(missingRecommendedFlags(all, { strategy: 'beam' })).toEqual(['--mirror-consensus', '--converse-consensus', '--relation-search']);
    expect(missingRecommendedFlags(all, { strategy: 'beam', converseConsensus: true })).toEqual(['--mirror-consensus', '--relation-search']);
    expect(missingRecommendedFlags(all, { strategy: 'greedy', mirrorConsensus: true, converseConsensus: true, relationSearch: true })).toEqual([]);
    expect(missingRecommendedFlags(all, { strategy: 'sample' })).toEqual([]);
    expect(missingRecommendedFlags(NO_CONSENSUS, { strategy: 'beam' })).toEqual([]);
  });

  it('reads as words where a form says what the boxes start as, and after a decoding in a description', () => {
    const all = { mirrorConsensus: true, converseConsensus: true, relationSearch: true };
    expect(consensusNames(all)).toBe('mirror and converse consensus, relation search');
    expect(consensusLabel(all)).toBe(', mirror and converse consensus, relation search');
    expect(consensusNames({ converseConsensus: true })).toBe('converse consensus');
    expect(consensusNames({ relationSearch: true })).toBe('relation search');
    expect(consensusNames(NO_CONSENSUS)).toBe('');
  });
});
