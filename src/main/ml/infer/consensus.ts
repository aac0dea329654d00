/**
 * Consensus decoding: the caption chosen is the one that reads well in more
 * than one way, not only as it was found.
 *
 * Mirror consensus (`decoding.mirrorConsensus`). A model trained with the
 * horizontal flip has learned that the mirror image of a picture is told by
 * the same caption with "left" and "right" swapped, so the mirror is a
 * second view of the image. A caption that puts an object on the wrong side,
 * or names the wrong object beside another, can look likely from one view;
 * it rarely looks likely from both.
 *
 * Converse consensus (`decoding.converseConsensus`). A caption that is one
 * relation between two things can be told from either of them ("a box
 * above a cross", "a cross below a box": lib/data/text/converse.ts). The
 * two readings start from different objects, so a side word chosen before
 * the second object was found has to hold from that object too: a relation
 * told the wrong way round rarely looks likely both ways. The converse is
 * read from its relation on; the words before it, which name the caption's
 * second object first, are counted at the caption's own log-probabilities
 * of its first object. How likely an object is to be named first says how
 * much it stands out, not whether the relation holds, and counting it would
 * favour captions that name one object twice ("a blue cross left of a blue
 * cross" told the other way begins with the same salient cross).
 *
 * Relation search (`decoding.relationSearch`). Each candidate that is one
 * relation between two things brings its alternatives, the same caption
 * with each other relation phrase (lib/data/text/relationAlternatives.ts),
 * since beam search drops the relations it was unsure of before it reads
 * the second object. An alternative is ranked by the length of the
 * candidate it came from: "above" and "to the left of" then compete on
 * what the model says of them, and a longer phrase of near-certain words
 * ("to the ... of") gains nothing from the length penalty's division.
 *
 * Each image is decoded (greedy: one caption; beam search: every finished
 * hypothesis of its beam) and, with the mirror, decoded mirrored, the
 * mirror's captions mirrored back. Of all these candidates the one chosen
 * has the highest
 *
 *   mean over readings r of log p(r(caption) | view of r) / (words + 1)^lengthPenalty
 *
 * where the readings are the caption on the image, and with the mirror its
 * mirrored words on the mirrored image, and with the converse its converse
 * on each of those views, and the words counted are those of the candidate
 * an alternative came from. A caption with no converse is read as itself in
 * the converse's place, so captions with and without a relation are scored
 * on the same scale (and is not replayed twice: its converse readings are
 * its plain ones). Greedy decoding does not divide by length (lengthPenalty
 * 0), as it does without consensus. The mean, not the sum, keeps the score
 * on the scale of a plain beam's, so the chosen caption can be shown beside
 * the beam's alternatives. Every log-probability is read by
 * replaying the decoder along every candidate at once (explain/replay.ts),
 * the same steps decoding runs. The beams of all images step together, as
 * in beam search, but each runs until it has `width` finished hypotheses.
 */
import type { ConverseIds } from '../../lib/data/text/converse';
import { mirrorIds } from '../../lib/data/text/mirror';
import { replayCaptions } from '../explain/replay';
import type { DecoderFeatures } from '../model/decoder';
import { finishedHypotheses } from './beam';
import { greedyDecode } from './sequential';
import { rowsOf } from './stepping';
import type { BeamOptions, DecodedCaption, GreedyOptions, StepDecoder } from './types';

export interface ConsensusViews {
  /** The encoder's features of the images. */
  features: DecoderFeatures;
  /** The same of the images mirrored left to right, row for row; needed with `mirror`. */
  mirrored: DecoderFeatures | null;
}

export interface ConsensusReadings {
  /** Mirror consensus: maps a word id to its mirrored word's id (`mirrorIdMap` of the model's vocabulary). */
  mirror: Int32Array | null;
  /** Converse consensus: a caption told from its other object, and where each telling's relation begins, or null when it has no converse (`converseIds`). */
  converse: ((tokens: readonly number[]) => ConverseIds | null) | null;
  /** Relation search: a candidate's alternatives (`relationAlternativeIds`); absent or null without it. */
  alternatives?: ((tokens: readonly number[]) => number[][]) | null;
}

/** One caption per image, chosen by every reading the settings ask for. */
export function consensusDecode<S>(model: StepDecoder<S>, views: ConsensusViews, options: GreedyOptions | BeamOptions, readings: ConsensusReadings): DecodedCaption[] {
  const images = rowsOf(views.features);
  const { mirror, converse, alternatives } = readings;
  if (mirror && !views.mirrored) throw new Error('Mirror consensus needs the features of the mirrored images.');
  if (mirror && rowsOf(views.mirrored!) !== images) throw new Error(`Mirror consensus needs one mirrored image per image (${images} images, ${rowsOf(views.mirrored!)} mirrored).`);
  const mirrored = (tokens: readonly number[]) => Array.from(mirrorIds(Int32Array.from(tokens), mirror!));
  const own = candidateTokens(model, views.features, options);
  const fromMirror = mirror ? candidateTokens(model, views.mirrored!, options) : null;
  // Every image's candidates, each once: its own view's, then the mirror's mirrored back, then their alternatives.
  const candidates = own.map((list, image) => {
    const unique = new Map<string, { tokens: number[]; rankedLength: number }>();
    for (const tokens of [...list, ...(fromMirror ? fromMirror[image]!.map(mirrored) : [])]) unique.set(tokens.join(','), { tokens, rankedLength: tokens.length });
    for (const { tokens } of alternatives ? [...unique.values()] : []) {
      for (const alternative of alternatives!(tokens)) {
        const key = alternative.join(',');
        if (!unique.has(key)) unique.set(key, { tokens: alternative, rankedLength: tokens.length });
      }
    }
    return [...unique.values()];
  });
  const rows = candidates.flatMap((list, image) => list.map((candidate) => ({ image, ...candidate })));
  const imageOfRow = rows.map((row) => row.image);

  // Each row's log-probabilities of `captions` on `features`; a row without a caption (null) keeps `otherwise`'s, unreplayed.
  const logProbsOn = (features: DecoderFeatures, captions: ReadonlyArray<number[] | null>, otherwise: number[][] | null): number[][] => {
    const replayed = captions.flatMap((caption, row) => (caption ? [row] : []));
    const out = otherwise ? [...otherwise] : new Array<number[]>(rows.length);
    const found = replayCaptions(model, features, replayed.map((row) => imageOfRow[row]!), replayed.map((row) => captions[row]!), { attention: false });
    replayed.forEach((row, index) => (out[row] = found[index]!.tokenLogProbs));
    return out;
  };
  const onImage = logProbsOn(views.features, rows.map((row) => row.tokens), null);
  const elsewhere: number[][][] = [];
  const onMirror = mirror ? logProbsOn(views.mirrored!, rows.map((row) => mirrored(row.tokens)), null) : null;
  if (onMirror) elsewhere.push(onMirror);
  if (converse) {
    // A caption with no converse is read as itself in its converse's place.
    const told = rows.map((row) => converse(row.tokens));
    // On one view: the caption's own words up to its relation, then the converse's from its relation on.
    const fromRelation = (own: number[][], read: number[][]) =>
      read.map((logProbs, row) => {
        const reading = told[row];
        return reading ? [...own[row]!.slice(0, reading.relationAt), ...logProbs.slice(reading.converseRelationAt)] : logProbs;
      });
    const ids = told.map((reading) => reading?.ids ?? null);
    elsewhere.push(fromRelation(onImage, logProbsOn(views.features, ids, onImage)));
    if (onMirror) elsewhere.push(fromRelation(onMirror, logProbsOn(views.mirrored!, ids.map((tokens) => (tokens ? mirrored(tokens) : null)), onMirror)));
  }

  const lengthPenalty = options.strategy === 'beam' ? options.lengthPenalty : 0;
  const best: Array<DecodedCaption | null> = new Array(images).fill(null);
  rows.forEach(({ image, tokens, rankedLength }, row) => {
    const logProb = sum(onImage[row]!);
    const total = elsewhere.reduce((acc, reading) => acc + sum(reading[row]!), logProb);
    const score = total / (1 + elsewhere.length) / (rankedLength + 1) ** lengthPenalty;
    const current = best[image];
    // What the caption is said to cost is its log-probability on the image itself.
    if (!current || score > current.score) best[image] = { tokens, tokenLogProbs: onImage[row]!, logProb, score };
  });
  return best.map((caption) => caption!);
}

/** The captions each image's view proposes: greedy's one, or every finished hypothesis of its beam (all images' beams stepped together). */
function candidateTokens<S>(model: StepDecoder<S>, features: DecoderFeatures, options: GreedyOptions | BeamOptions): number[][][] {
  if (options.strategy === 'greedy') return greedyDecode(model, features, options).map((caption) => [caption.tokens]);
  return finishedHypotheses(model, features, options, { exhaustive: true }).map((hypotheses) => hypotheses.map((hypothesis) => hypothesis.tokens));
}

const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);
