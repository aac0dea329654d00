import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trainConfigFromArgs } from '../../src/main/cli/commands/train';
import { overridesFromAssignments } from '../../src/main/cli/setAssignments';

describe('captioner train: configuration from the command line', () => {
  it('starts from a preset and applies the flags', () => {
    const config = trainConfigFromArgs(['--dataset', 'data/shapes', '--preset', 'shapes-quick', '--epochs', '7', '--batch-size', '64', '--seed', '3', '--name', 'quick']);
    expect(config.dataset.path).toBe(resolve('data/shapes'));
    expect(config.training).toMatchObject({ epochs: 7, batchSize: 64, seed: 3 });
    expect(config.name).toBe('quick');
    expect(config.encoder.source).toBe('scratch-cnn');
    expect(config.decoder.units).toBe(128);
  });

  it('sets any field with --set, parsing JSON values', () => {
    const config = trainConfigFromArgs(['--dataset', '/d', '--set', 'decoder.variant=attention', '--set', 'optimizer.learningRate=5e-4', '--set', 'encoder.fineTune.enabled=true']);
    expect(config.decoder.variant).toBe('attention');
    expect(config.optimizer.learningRate).toBe(5e-4);
    expect(config.encoder.fineTune.enabled).toBe(true);
  });

  it('lets --set win over a flag for the same field, and names a malformed assignment', () => {
    const config = trainConfigFromArgs(['--dataset', '/d', '--epochs', '7', '--set', 'training.epochs=3', '--set', 'name=quick run']);
    expect(config.training.epochs).toBe(3);
    expect(config.name).toBe('quick run');
    expect(() => trainConfigFromArgs(['--dataset', '/d', '--set', 'training.epochs'])).toThrow(/--set needs PATH=VALUE \(got "training.epochs"\)/);
    expect(overridesFromAssignments(['decoder.units=64', 'decoder.cell=gru'])).toEqual({ decoder: { units: 64, cell: 'gru' } });
  });

  it('reads --config files, resolving a relative dataset path against the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    const file = join(dir, 'run.json');
    writeFileSync(file, JSON.stringify({ dataset: { path: 'shapes' }, decoder: { variant: 'init-inject', cell: 'gru' } }));
    const config = trainConfigFromArgs(['--config', file, '--epochs', '2']);
    expect(config.dataset.path).toBe(join(dir, 'shapes'));
    expect(config.decoder).toMatchObject({ variant: 'init-inject', cell: 'gru', embeddingDim: 256 });
    expect(config.training.epochs).toBe(2);
  });

  it('names the offending field when the configuration is invalid', () => {
    expect(() => trainConfigFromArgs(['--preset', 'shapes-quick'])).toThrow(/dataset[\s\S]*--dataset PATH/);
    expect(() => trainConfigFromArgs(['--dataset', '/d', '--set', 'decoder.units=9000'])).toThrow(/decoder\.units/);
    expect(() => trainConfigFromArgs(['--dataset', '/d', '--preset', 'nope'])).toThrow(/Unknown preset "nope"/);
    expect(() => trainConfigFromArgs(['--dataset', '/d', '--set', 'novalue'])).toThrow(/PATH=VALUE/);
  });
});
