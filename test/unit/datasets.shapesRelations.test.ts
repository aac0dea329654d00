import { describe, expect, it } from 'vitest';
import { groundCaption } from '../../src/main/lib/data/shapes/grounded';
import { relationClaims } from '../../src/main/lib/data/shapes/relationClaims';
import { plainScene, sceneObject as object } from '../helpers/shapesScenes';

/** A red circle top-left, a blue square in the middle row on the right, a green star below the circle. */
const scene = plainScene([object('circle', 'red', 'small', 0, 0), object('square', 'blue', 'large', 1, 2), object('star', 'green', 'small', 2, 0)]);

const outcomes = (caption: string) => relationClaims(scene, caption).map((claim) => `${claim.phrase}: ${claim.outcome}`);

describe('why relation claims are wrong', () => {
  it('tells a true claim, a wrong side, a wrong axis and a misnamed object apart, by the phrase that stated it', () => {
    expect(outcomes('a red circle to the left of a blue square')).toEqual(['to the side of: true']);
    expect(outcomes('a red circle right of a blue square')).toEqual(['side of: side']);
    // The star is in the circle's column: neither left nor right of it.
    expect(outcomes('a green star to the left of a red circle')).toEqual(['to the side of: axis']);
    expect(outcomes('a red circle above a green star')).toEqual(['vertical: true']);
    expect(outcomes('a red circle under a green star')).toEqual(['vertical: side']);
    // Same row? The circle and the square are not: row 0 and 1, so "below" is the wrong side, not the wrong axis.
    expect(outcomes('a red circle below a blue square')).toEqual(['vertical: side']);
    // No purple object; the red circle twice is the same object on both sides.
    expect(outcomes('a purple circle left of a blue square')).toEqual(['side of: naming']);
    expect(outcomes('a red circle to the left of a red circle')).toEqual(['to the side of: naming']);
  });

  it('reads the same claims as the grounded scorer, and agrees with it on which are true', () => {
    const captions = [
      'a red circle to the left of a blue square and a green star',
      'there is a green star beneath a small circle on a gray background',
      'a blue square to the right of a star',
      'a red circle in the top left corner',
      'two shapes: a red circle and a blue square',
    ];
    for (const caption of captions) {
      const scored = groundCaption(scene, caption).claims.filter((claim) => claim.attribute === 'relation');
      const read = relationClaims(scene, caption);
      expect(read.map((claim) => claim.text), caption).toEqual(scored.map((claim) => claim.text));
      expect(read.map((claim) => claim.outcome === 'true'), caption).toEqual(scored.map((claim) => claim.correct));
    }
  });
});
