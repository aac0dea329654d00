import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/main/lib/data/random';
import { generateCaptions } from '../../src/main/lib/data/shapes/grammar';
import { groundCaption } from '../../src/main/lib/data/shapes/grounded';
import { randomScene } from '../../src/main/lib/data/shapes/scene';
import { spatialProbeItems } from '../../src/main/lib/data/shapes/spatialProbe';
import { tokenizeCaption } from '../../src/main/lib/data/text/tokenize';

const items = (caption: string) =>
  spatialProbeItems(tokenizeCaption(caption)).map((item) => `${item.kind}@${item.index}:${item.truth.join('/')}|${item.opposite.join('/')}`);

describe('spatial probe words', () => {
  it('finds the relation word between two mentions, with the opposite side and its synonyms', () => {
    expect(items('there is a big red circle to the left of a blue box')).toEqual(['relation-horizontal@8:left|right']);
    expect(items('a red circle right of a small star')).toEqual(['relation-horizontal@3:right|left']);
    expect(items('a red circle under a blue star')).toEqual(['relation-vertical@3:below/under/beneath|above/over']);
    expect(items('a purple cross over a green disc')).toEqual(['relation-vertical@3:above/over|below/under/beneath']);
  });

  it('finds the row and column words of a position phrase, and nothing in lists, counts or the center', () => {
    expect(items('a big yellow triangle in the top left corner')).toEqual(['position-row@6:top|bottom', 'position-column@7:left|right']);
    expect(items('a small red circle on the right')).toEqual(['position-column@6:right|left']);
    expect(items('a small red circle at the bottom')).toEqual(['position-row@6:bottom|top']);
    expect(items('a red circle in the center')).toEqual([]);
    expect(items('a red circle and a blue star on a gray background')).toEqual([]);
    expect(items('two shapes: a red circle and a blue star')).toEqual([]);
  });

  it('in every generated caption, the probed word is true and its opposite makes the claim false', () => {
    const rng = createRng(7);
    let probed = 0;
    for (let n = 0; n < 300; n++) {
      const scene = randomScene(rng, { imageSize: 48, maxObjects: 2, textures: true });
      for (const caption of generateCaptions(scene, rng)) {
        const tokens = tokenizeCaption(caption);
        for (const item of spatialProbeItems(tokens)) {
          probed += 1;
          const claimOf = (words: readonly string[]) =>
            groundCaption(scene, words.join(' ')).claims.find((c) => c.attribute === (item.kind.startsWith('relation') ? 'relation' : 'position'));
          expect(item.truth).toContain(tokens[item.index]);
          expect(claimOf(tokens)?.correct, caption).toBe(true);
          const swapped = tokens.map((word, i) => (i === item.index ? (item.opposite[0] as string) : word));
          // Two distinct objects: the other side of the same pair, or of the same object, is false.
          expect(claimOf(swapped)?.correct, swapped.join(' ')).toBe(false);
        }
      }
    }
    expect(probed).toBeGreaterThan(200);
  });
});
