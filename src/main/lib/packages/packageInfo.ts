/**
 * Reading a model package's config.json (validated, errors naming the file
 * and field) and summarizing the package for the API. No tfjs: the main
 * process lists packages with this.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { ModelPackageInfo } from '../../../shared/inferenceTypes';
import { JsonCursor, JsonInputError, readJsonFile } from '../eval/jsonInput';
import { packageConfigSchema, PACKAGE_FORMAT, type PackageConfig } from './packageConfig';

export function readPackageConfig(dir: string): PackageConfig {
  const file = join(dir, 'config.json');
  const json = readJsonFile(file);
  const root = JsonCursor.root(file, json);
  if (!root.isObject() || root.field('format', true).value !== PACKAGE_FORMAT) {
    throw new JsonInputError(file, '$.format', `not a model package (expected "format": "${PACKAGE_FORMAT}").`);
  }
  const parsed = packageConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('');
    throw new JsonInputError(file, `$${path}`, issue.message);
  }
  return parsed.data;
}

function listFiles(dir: string, root = dir): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? listFiles(path, root) : [relative(root, path)];
    });
}

export function readPackageInfo(dir: string): ModelPackageInfo {
  const config = readPackageConfig(dir);
  let evaluation: ModelPackageInfo['evaluation'] = null;
  try {
    const metrics = readJsonFile(join(dir, config.metrics.path)) as { evaluation?: ModelPackageInfo['evaluation'] };
    evaluation = metrics.evaluation ?? null;
  } catch {
    // metrics.json is informative only; a package without it still captions.
  }
  const files = listFiles(dir);
  return {
    name: config.name,
    path: dir,
    createdAt: config.createdAt,
    source: config.source,
    encoder: { kind: config.encoder.kind, id: config.encoder.id, inputSize: config.encoder.inputSize },
    decoder: {
      variant: config.decoder.variant,
      cell: config.decoder.cell,
      layers: config.decoder.layers,
      embeddingDim: config.decoder.embeddingDim,
      units: config.decoder.units,
      vocabSize: config.decoder.vocabSize,
    },
    decoding: config.decoding,
    evaluation,
    sizeBytes: files.reduce((sum, file) => sum + statSync(join(dir, file)).size, 0),
    files,
  };
}
