/**
 * The pieces of `captioner tune` and `captioner study` that need no engine:
 * durations for --timeout, the pruner's short name, and the trials table in
 * the layout of Optuna's trials_dataframe().
 */
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/main/cli/duration';
import { createPruner } from '../../src/main/lib/tuning';
import { studyExportDocument, trialsDataframeCsv } from '../../src/main/tuning/studyExport';
import type { StudyDetails } from '../../src/shared/contract/tuning';
import type { StudyRecord, TrialRecord } from '../../src/shared/storeTypes';

describe('--timeout durations', () => {
  it('reads seconds, minutes, hours, days and their combinations', () => {
    expect(parseDuration('90s', 'timeout')).toBe(90);
    expect(parseDuration('45m', 'timeout')).toBe(2700);
    expect(parseDuration('2h', 'timeout')).toBe(7200);
    expect(parseDuration('1h30m', 'timeout')).toBe(5400);
    expect(parseDuration('1d2h3m4s', 'timeout')).toBe(86400 + 7200 + 180 + 4);
    expect(parseDuration(' 2H ', 'timeout')).toBe(7200);
  });

  it('names the flag for anything else', () => {
    for (const bad of ['', '90', '2 h', '1.5h', '30m1h', 'soon', '0s', '-5m']) {
      expect(() => parseDuration(bad, 'timeout'), bad).toThrow(/--timeout must be (a duration such as 90s, 45m, 2h or 1h30m|longer than 0 seconds)/);
    }
  });
});

describe('pruner names', () => {
  it('takes halving as successive halving, by name and in JSON, and keeps the long name', () => {
    expect(createPruner('halving').name).toBe('successiveHalving');
    expect(createPruner({ name: 'halving', options: { reductionFactor: 3 } } as never).name).toBe('successiveHalving');
    expect(createPruner('successiveHalving').name).toBe('successiveHalving');
    expect(() => createPruner('halve')).toThrow(/pruner name/);
  });
});

const study: StudyRecord = {
  id: 3,
  name: 'lr, "quoted"',
  objective: 'val/loss',
  direction: 'minimize',
  searchSpace: { 'optimizer.learningRate': { type: 'float', low: 1e-4, high: 1e-2, log: true }, 'decoder.cell': { type: 'categorical', choices: ['lstm', 'gru'] } },
  sampler: 'tpe',
  pruner: 'median',
  baseConfig: { dataset: { path: '/data' } },
  status: 'completed',
  taskId: 9,
  createdAt: '2026-11-30T10:00:00.000Z',
  updatedAt: '2026-11-30T10:30:00.000Z',
};

function trial(number: number, fields: Partial<TrialRecord>): TrialRecord {
  return { id: number + 1, studyId: 3, number, state: 'completed', params: {}, value: null, runId: null, taskId: null, error: null, createdAt: '2026-11-30T10:00:00.000Z', startedAt: null, finishedAt: null, heartbeatAt: null, ...fields };
}

describe('study export', () => {
  const details: StudyDetails = {
    study,
    trials: [
      { ...trial(0, { params: { 'optimizer.learningRate': 0.001, 'decoder.cell': 'lstm' }, value: 2.5, runId: 11, startedAt: '2026-11-30T10:00:01.000Z', finishedAt: '2026-11-30T10:01:03.250Z' }), intermediates: [{ step: 1, value: 3 }, { step: 2, value: 2.5 }] },
      { ...trial(1, { state: 'pruned', params: { 'optimizer.learningRate': 0.009, 'decoder.cell': 'gru' }, runId: 12, startedAt: '2026-11-30T10:01:04.000Z', finishedAt: '2026-11-30T10:01:30.000Z' }), intermediates: [{ step: 1, value: 4.25 }] },
      { ...trial(2, { state: 'crashed', params: { 'optimizer.learningRate': 0.0002, 'decoder.cell': 'a,b' }, error: 'gone' }), intermediates: [] },
      { ...trial(3, { state: 'running', params: { 'optimizer.learningRate': 0.0005, 'decoder.cell': 'lstm' }, runId: 14, startedAt: '2026-11-30T10:02:00.000Z' }), intermediates: [] },
    ],
    best: trial(0, { params: { 'optimizer.learningRate': 0.001, 'decoder.cell': 'lstm' }, value: 2.5, runId: 11 }),
  };
  const document = studyExportDocument(details, { trials: 4, parallel: 1, timeoutSeconds: 3600 }, new Date('2026-11-30T12:00:00Z'));

  it('holds the study, its budget, space, sampler, pruner and every trial with its intermediate values', () => {
    expect(document).toMatchObject({ format: 'captioner-study', version: 1, exportedAt: '2026-11-30T12:00:00.000Z', budget: { trials: 4, parallel: 1, timeoutSeconds: 3600 }, sampler: 'tpe', pruner: 'median' });
    expect(document.study).toMatchObject({ id: 3, name: 'lr, "quoted"', objective: 'val/loss', direction: 'minimize' });
    expect(document.searchSpace).toEqual(study.searchSpace);
    expect(document.trials.map((t) => [t.number, t.state, t.runId, t.intermediates.length])).toEqual([[0, 'completed', 11, 2], [1, 'pruned', 12, 1], [2, 'crashed', null, 0], [3, 'running', 14, 0]]);
    expect(document.trials[2]!.error).toBe('gone');
    expect(document.best).toEqual({ number: 0, value: 2.5, params: { 'optimizer.learningRate': 0.001, 'decoder.cell': 'lstm' }, runId: 11 });
  });

  it("writes the trials as Optuna's trials_dataframe() to_csv: params in name order, pandas times, Optuna's states", () => {
    const lines = trialsDataframeCsv(document).trimEnd().split('\n');
    expect(lines[0]).toBe('number,value,datetime_start,datetime_complete,duration,params_decoder.cell,params_optimizer.learningRate,user_attrs_run_id,user_attrs_state,state');
    expect(lines[1]).toBe('0,2.5,2026-11-30 10:00:01.000000,2026-11-30 10:01:03.250000,0 days 00:01:02.250000,lstm,0.001,11,completed,COMPLETE');
    // A pruned trial's value is its last intermediate value, as Optuna records it.
    expect(lines[2]).toBe('1,4.25,2026-11-30 10:01:04.000000,2026-11-30 10:01:30.000000,0 days 00:00:26.000000,gru,0.009,12,pruned,PRUNED');
    expect(lines[3]).toBe('2,,2026-11-30 10:00:00.000000,,,"a,b",0.0002,,crashed,FAIL');
    expect(lines[4]).toBe('3,,2026-11-30 10:02:00.000000,,,lstm,0.0005,14,running,RUNNING');
    expect(lines).toHaveLength(5);
  });
});
