/**
 * The model side of the Shapes spatial probe (the caption side, which words
 * say where and what their opposite is, is src/main/lib/data/shapes/spatialProbe.ts):
 * every reference caption of a split is fed to the decoder word by word
 * (teacher forcing), and at each word that says where the probability of the
 * true side is compared with the opposite side's. It tells whether a model
 * knows where things are, apart from what beam search chooses to state and
 * from misnamed objects. Used by `npm run bench -- shapes-spatial` and by the
 * spatial training test.
 */
import type { SceneObject } from '../../lib/data/shapes/scene';
import type { HorizontalPhrase } from '../../lib/data/shapes/relationClaims';
import { relationAxisIsTheOnlyOne, relationDecidedBy, spatialProbeItems, type RelationDecidedBy, type SpatialProbeItem, type SpatialProbeKind } from '../../lib/data/shapes/spatialProbe';
import type { InferenceModel } from '../captioning/model';
import { shapesBatches, teacherForce } from './shapesTeacherForcing';

interface Row {
  image: number;
  tokens: readonly string[];
  items: SpatialProbeItem[];
  objects: readonly SceneObject[];
}

/**
 * One kind of spatial word, over all scenes or those with `objects` objects;
 * for relation words also split by what decides their side (`decidedBy`,
 * relationDecidedBy in lib/data/shapes/spatialProbe.ts), and horizontal ones
 * by how they were put (`phrase`: "to the left of", read two words after the
 * noun, or "left of", right after it).
 */
export interface SpatialProbeTally {
  kind: SpatialProbeKind;
  objects: number | 'all';
  decidedBy?: RelationDecidedBy;
  phrase?: HorizontalPhrase;
  /** How often the true side was the likelier. */
  accuracy: number;
  /** The true side's mean share of the pair's probability; 0.5 is chance. */
  trueShare: number;
  /**
   * How often the true side's likeliest word beats the opposite side's
   * likeliest: what one step of greedy or beam search compares. Below
   * `accuracy` where the true side's probability is split among more words
   * (three for "below", one "to" for both "to the left of" and "to the right of").
   */
  topWordAccuracy: number;
  items: number;
}

/** What a tally counts: its kind of word, scenes and, for relations, what decides the side and the phrase. */
type TallyGroup = Pick<SpatialProbeTally, 'kind' | 'objects' | 'decidedBy' | 'phrase'>;

export interface SpatialProbeResult {
  tallies: SpatialProbeTally[];
  /** Reference words the model's vocabulary does not have (probed as <unk>). */
  wordsOutsideVocabulary: string[];
}

/** Probes `model` on the references of `split` of the `captioner synth` folder `datasetDir`. */
export async function probeSpatial(model: InferenceModel, datasetDir: string, split = 'test'): Promise<SpatialProbeResult> {
  const unknown = new Set<string>();
  const tallies = new Map<string, { group: TallyGroup; right: number; topRight: number; share: number; items: number }>();
  const count = (group: TallyGroup, { right, topRight, share }: { right: boolean; topRight: boolean; share: number }) => {
    const key = `${group.kind}/${group.objects}/${group.decidedBy ?? ''}/${group.phrase ?? ''}`;
    const tally = tallies.get(key) ?? { group, right: 0, topRight: 0, share: 0, items: 0 };
    tally.items += 1;
    tally.share += share;
    if (right) tally.right += 1;
    if (topRight) tally.topRight += 1;
    tallies.set(key, tally);
  };
  for await (const batch of shapesBatches(model, datasetDir, split)) {
    const rows: Row[] = batch.images
      .flatMap(({ scene, captions }, image) =>
        captions.map((tokens) => {
          for (const word of tokens) if (word !== '<end>' && model.vocabulary.id(word) === model.vocabulary.id('<unk>')) unknown.add(word);
          return { image, tokens, items: spatialProbeItems(tokens.slice(0, -1)), objects: scene.objects };
        }),
      )
      .filter((row) => row.items.length > 0);
    if (rows.length === 0) continue;
    const { logProbs, steps, vocab } = teacherForce(model, batch.pixels, batch.images.length, rows);
    rows.forEach((row, r) => {
      const tokens = row.tokens.slice(0, -1);
      for (const item of row.items) {
        // A diagonal pair is true along both axes: its first word has no wrong axis to weigh.
        if (item.kind === 'relation-axis' && !relationAxisIsTheOnlyOne(row.objects, tokens, item)) continue;
        const probabilities = (words: readonly string[]) => words.map((word) => Math.exp(logProbs[(r * steps + item.index) * vocab + model.vocabulary.id(word)]!));
        const truths = probabilities(item.truth);
        const opposites = probabilities(item.opposite);
        const truth = truths.reduce((a, b) => a + b, 0);
        const opposite = opposites.reduce((a, b) => a + b, 0);
        const outcome = { right: truth > opposite, topRight: Math.max(...truths) > Math.max(...opposites), share: truth / Math.max(1e-30, truth + opposite) };
        count({ kind: item.kind, objects: row.objects.length }, outcome);
        count({ kind: item.kind, objects: 'all' }, outcome);
        if (item.kind === 'relation-axis') continue;
        const decidedBy = relationDecidedBy(row.objects, tokens, item);
        if (decidedBy) count({ kind: item.kind, objects: 'all', decidedBy }, outcome);
        const phrase = item.phrase;
        if (phrase) {
          count({ kind: item.kind, objects: 'all', phrase }, outcome);
          if (decidedBy) count({ kind: item.kind, objects: 'all', decidedBy, phrase }, outcome);
        }
      }
    });
  }
  return {
    tallies: [...tallies]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, tally]) => ({ ...tally.group, accuracy: tally.right / tally.items, trueShare: tally.share / tally.items, topWordAccuracy: tally.topRight / tally.items, items: tally.items })),
    wordsOutsideVocabulary: [...unknown],
  };
}
