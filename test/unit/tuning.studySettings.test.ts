import { describe, expect, it } from 'vitest';
import type { StudyRecord, TrialRecord } from '../../src/shared/storeTypes';
import { studySettings } from '../../src/main/tuning/studySettings';
import { toStudyView } from '../../src/main/tuning/studyView';
import { bestTrial, trialConfig } from '../../src/main/tuning/tuningService';

const study = (overrides: Partial<StudyRecord> = {}): StudyRecord => ({
  id: 4,
  name: 'sweep',
  objective: 'val/loss',
  direction: 'minimize',
  searchSpace: { 'optimizer.learningRate': { type: 'float', low: 1e-5, high: 1e-2, log: true } },
  sampler: 'tpe',
  pruner: 'median',
  baseConfig: { dataset: { path: '/data' }, training: { epochs: 3 } },
  status: 'running',
  taskId: 1,
  createdAt: '',
  updatedAt: '',
  ...overrides,
});

const trial = (number: number, state: TrialRecord['state'], value: number | null = null): TrialRecord => ({
  id: number + 10,
  studyId: 4,
  number,
  state,
  params: { 'optimizer.learningRate': 1e-3 },
  value,
  runId: null,
  taskId: null,
  error: null,
  createdAt: '',
  startedAt: null,
  finishedAt: null,
  heartbeatAt: null,
});

describe('a stored study as tuning objects', () => {
  it('reads samplers and pruners by name or as JSON with options', () => {
    expect(studySettings(study()).sampler.name).toBe('tpe');
    const settings = studySettings(study({ sampler: '{"name":"sobol","options":{"scramble":true}}', pruner: '{"name":"hyperband","options":{"reductionFactor":2}}' }));
    expect(settings.sampler.name).toBe('sobol');
    expect(settings.pruner.name).toBe('hyperband');
  });

  it('names the study and the field at fault', () => {
    expect(() => studySettings(study({ objective: 'val/accuracy' }))).toThrow(/Study 4 \(sweep\): objective: must be one of val\/ciderD, val\/bleu4, val\/loss/);
    expect(() => studySettings(study({ sampler: 'annealing' }))).toThrow(/Study 4 \(sweep\): sampler: /);
    expect(() => studySettings(study({ pruner: '{"name":"median","options":{"warmup":1}}' }))).toThrow(/pruner: .*warmup/);
    expect(() => studySettings(study({ searchSpace: { 'decoder.size': { type: 'int', low: 1, high: 3 } } }))).toThrow(/searchSpace: .*decoder\.size: is not a RunConfig field/);
    expect(() => studySettings(study({ sampler: 'grid' }))).toThrow(/sampler: grid sampler: optimizer\.learningRate/);
  });

  it('maps trial states: queued and running are being evaluated, cancelled and crashed are failures', () => {
    const view = toStudyView(study(), [
      { trial: trial(0, 'completed', 0.5), intermediates: [{ step: 1, value: 0.7 }] },
      { trial: trial(1, 'queued'), intermediates: [] },
      { trial: trial(2, 'running'), intermediates: [{ step: 1, value: 0.9 }] },
      { trial: trial(3, 'pruned'), intermediates: [{ step: 1, value: 2 }] },
      { trial: trial(4, 'cancelled'), intermediates: [] },
      { trial: trial(5, 'crashed'), intermediates: [] },
      { trial: trial(6, 'completed', null), intermediates: [] },
    ]);
    expect(view.trials.map((t) => t.state)).toEqual(['complete', 'running', 'running', 'pruned', 'failed', 'failed', 'failed']);
    expect(view.trials[0]!.value).toBe(0.5);
    expect(view.trials[2]!.intermediate.get(1)).toBe(0.9);
  });

  it("lays a trial's parameters over the base config and validates the result", () => {
    const config = trialConfig(study(), 7, { 'optimizer.learningRate': 2e-4, 'decoder.cell': 'gru' });
    expect(config.optimizer.learningRate).toBe(2e-4);
    expect(config.decoder.cell).toBe('gru');
    expect(config.training.epochs).toBe(3);
    expect(config.name).toBe('sweep trial 7');
    expect(() => trialConfig(study(), 1, { 'optimizer.learningRate': 5 })).toThrow(/Trial 1 of study sweep: optimizer\.learningRate/);
  });

  it('finds the best completed trial in either direction, the earliest on a tie', () => {
    const trials = [trial(0, 'completed', 3), trial(1, 'completed', 1), trial(2, 'pruned'), trial(3, 'completed', 1), trial(4, 'completed', 5)];
    expect(bestTrial(study(), trials)!.number).toBe(1);
    expect(bestTrial(study({ direction: 'maximize' }), trials)!.number).toBe(4);
    expect(bestTrial(study(), [trial(0, 'running')])).toBeNull();
  });
});
