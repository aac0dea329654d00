import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/main/lib/data/random';
import { generateCaptions } from '../../src/main/lib/data/shapes/grammar';
import { groundCaption } from '../../src/main/lib/data/shapes/grounded';
import { randomScene, type SceneObject } from '../../src/main/lib/data/shapes/scene';
import { relationAxisIsTheOnlyOne, relationDecidedBy, spatialProbeItems } from '../../src/main/lib/data/shapes/spatialProbe';
import { tokenizeCaption } from '../../src/main/lib/data/text/tokenize';
import { sceneObject } from '../helpers/shapesScenes';

const items = (caption: string) =>
  spatialProbeItems(tokenizeCaption(caption)).map((item) => `${item.kind}@${item.index}:${item.truth.join('/')}|${item.opposite.join('/')}`);

describe('spatial probe words', () => {
  it('finds the relation word between two mentions, with the opposite side and its synonyms', () => {
    const across = 'left/to/right|above/over/below/under/beneath';
    const upDown = 'above/over/below/under/beneath|left/to/right';
    expect(items('there is a big red circle to the left of a blue box')).toEqual([`relation-axis@6:${across}`, 'relation-horizontal@8:left|right']);
    expect(items('a red circle right of a small star')).toEqual([`relation-axis@3:${across}`, 'relation-horizontal@3:right|left']);
    expect(items('a red circle under a blue star')).toEqual([`relation-axis@3:${upDown}`, 'relation-vertical@3:below/under/beneath|above/over']);
    expect(items('a purple cross over a green disc')).toEqual([`relation-axis@3:${upDown}`, 'relation-vertical@3:above/over|below/under/beneath']);
  });

  it('says how a horizontal relation was put: "to the left of" or "left of"', () => {
    const phrases = (caption: string) => spatialProbeItems(tokenizeCaption(caption)).map((item) => item.phrase ?? null);
    expect(phrases('there is a big red circle to the left of a blue box')).toEqual([null, 'to the side of']);
    expect(phrases('a red circle right of a small star')).toEqual([null, 'side of']);
    expect(phrases('a red circle under a blue star')).toEqual([null, null]);
    expect(phrases('a big yellow triangle in the top left corner')).toEqual([null, null]);
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
          expect(item.truth).toContain(tokens[item.index]);
          // The axis's first word is weighed as a whole phrase's start, not swapped for one word (see the next tests).
          if (item.kind === 'relation-axis') continue;
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

  it('says whether the first object\'s own column or row decides a relation word, or the object named next', () => {
    const redBox = sceneObject('square', 'red', 'large', 1, 0);
    const blueStar = sceneObject('star', 'blue', 'small', 1, 1);
    const greenDisc = sceneObject('circle', 'green', 'large', 0, 2);
    const objects = [redBox, blueStar, greenDisc];
    const decided = (caption: string, scene = objects) => {
      const tokens = tokenizeCaption(caption);
      return spatialProbeItems(tokens)
        .filter((item) => item.kind !== 'relation-axis')
        .map((item) => relationDecidedBy(scene, tokens, item));
    };
    // The box is in the left column: whatever comes next is to its right.
    expect(decided('a red box to the left of a blue star')).toEqual(['first-object']);
    // The star is in the middle column: "left" holds of the disc, "right" of the box.
    expect(decided('a blue star to the left of a green disc')).toEqual(['second-object']);
    expect(decided('a small star right of a big red box')).toEqual(['second-object']);
    // Rows: the disc is in the top row, the star in the middle one.
    expect(decided('a green disc above a blue star')).toEqual(['first-object']);
    expect(decided('a blue star under a green disc')).toEqual(['second-object']);
    // Position words, and a first mention that fits two objects, are not classed.
    expect(decided('a red box on the left')).toEqual([null]);
    const twoAbove = [sceneObject('square', 'red', 'large', 0, 0), sceneObject('circle', 'green', 'large', 0, 2), sceneObject('star', 'blue', 'small', 2, 1)];
    expect(decided('a big shape above a blue star', twoAbove)).toEqual([null]);
    expect(decided('a red box above a blue star', twoAbove)).toEqual(['first-object']);
  });

  it('weighs a relation\'s axis only where every other object shares the first one\'s row or column', () => {
    const redBox = sceneObject('square', 'red', 'large', 1, 0);
    const blueStar = sceneObject('star', 'blue', 'small', 1, 2);
    const greenDisc = sceneObject('circle', 'green', 'large', 2, 0);
    const yellowCross = sceneObject('cross', 'yellow', 'small', 0, 1);
    const only = (caption: string, objects: SceneObject[]) => {
      const tokens = tokenizeCaption(caption);
      return spatialProbeItems(tokens)
        .filter((item) => item.kind === 'relation-axis')
        .map((item) => relationAxisIsTheOnlyOne(objects, tokens, item));
    };
    // One row: only "left of" or "right of" can be said of the box.
    expect(only('a red box to the left of a blue star', [redBox, blueStar])).toEqual([true]);
    // One column: only "above" or "below".
    expect(only('a red box above a green disc', [redBox, greenDisc])).toEqual([true]);
    // The disc below the box would make "under" true as well, whatever the caption names next.
    expect(only('a red box to the left of a blue star', [redBox, blueStar, greenDisc])).toEqual([false]);
    // Diagonal: the cross is both left of and above the star.
    expect(only('a yellow cross left of a blue star', [yellowCross, blueStar])).toEqual([false]);
    // A false relation has no true axis to weigh, nor do words that state none.
    expect(only('a blue star to the left of a red box', [redBox, blueStar])).toEqual([false]);
    expect(only('a red box on the left', [redBox, blueStar])).toEqual([]);
  });
});
