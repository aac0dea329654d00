/**
 * `npm run bench -- shapes-relations --results FILE --scenes FILE`
 *
 * Which relation claims of a Shapes evaluation are wrong, and how
 * (src/main/lib/data/shapes/relationClaims.ts): one JSON line per phrase
 * ("to the side of", "side of", "vertical") and one for all, each with the
 * claims, how many are true, and the false ones split into a wrong side, an
 * axis along which the objects do not differ, and a misnamed object.
 *
 * `--results` is an evaluation's COCO results file
 * (DATA_DIR/evaluations/ID/results.json, written by `captioner eval`),
 * `--scenes` the `scenes.json` of the `captioner synth` folder it was run on.
 * `--examples N` also prints up to N false claims of each outcome, with the
 * scene's objects.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { loadScenes, sceneIndex } from '../src/main/lib/data/shapes/grounded';
import { relationClaims, type RelationOutcome, type RelationPhrase } from '../src/main/lib/data/shapes/relationClaims';

const OUTCOMES: RelationOutcome[] = ['true', 'side', 'axis', 'naming'];
const PHRASES: RelationPhrase[] = ['to the side of', 'side of', 'vertical'];

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { results: { type: 'string' }, scenes: { type: 'string' }, examples: { type: 'string', default: '0' } } });
  if (!values.results || !values.scenes) throw new Error('Usage: npm run bench -- shapes-relations --results FILE --scenes FILE [--examples N]');
  const examplesPerOutcome = Number(values.examples);
  if (!Number.isInteger(examplesPerOutcome) || examplesPerOutcome < 0) throw new Error(`--examples: expected a whole number of examples, got "${values.examples}"`);
  const scenes = sceneIndex(await loadScenes(values.scenes));
  const results = JSON.parse(readFileSync(values.results, 'utf8')) as unknown;
  if (!Array.isArray(results)) throw new Error(`${values.results}: expected a COCO results array of {image_id, caption}`);
  const tallies = new Map<string, Record<RelationOutcome, number>>(['all', ...PHRASES].map((key) => [key, { true: 0, side: 0, axis: 0, naming: 0 }]));
  const examples: Record<string, unknown>[] = [];
  const perOutcome = new Map<RelationOutcome, number>();
  results.forEach((item: { image_id?: unknown; caption?: unknown }, i) => {
    if (typeof item?.image_id !== 'string' || typeof item.caption !== 'string') throw new Error(`${values.results} at [${i}]: expected {image_id, caption} strings`);
    const scene = scenes.get(basename(item.image_id));
    if (!scene) return;
    for (const claim of relationClaims(scene, item.caption)) {
      tallies.get('all')![claim.outcome] += 1;
      tallies.get(claim.phrase)![claim.outcome] += 1;
      const shown = perOutcome.get(claim.outcome) ?? 0;
      if (claim.outcome !== 'true' && shown < examplesPerOutcome) {
        perOutcome.set(claim.outcome, shown + 1);
        const objects = scene.objects.map((o) => `${o.size} ${o.color} ${o.shape} at row ${o.row}, column ${o.col}`);
        examples.push({ bench: 'shapes-relations', example: claim.outcome, image: item.image_id, claim: claim.text, objects });
      }
    }
  });
  for (const [phrase, counts] of tallies) {
    const claims = OUTCOMES.reduce((sum, outcome) => sum + counts[outcome], 0);
    process.stdout.write(`${JSON.stringify({ bench: 'shapes-relations', phrase, claims, ...counts, precision: claims ? Number((counts.true / claims).toFixed(4)) : null, results: values.results })}\n`);
  }
  for (const example of examples) process.stdout.write(`${JSON.stringify(example)}\n`);
}
