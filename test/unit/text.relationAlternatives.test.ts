/**
 * Relation alternatives: a caption that is one relation between two simple
 * noun phrases comes back with each other relation phrase in its place,
 * the words around it kept; anything else has none; on word ids, an
 * alternative the vocabulary cannot say is left out.
 */
import { describe, expect, it } from 'vitest';
import { RELATION_PHRASES } from '../../src/main/lib/data/text/converse';
import { relationAlternativeIds, relationAlternatives } from '../../src/main/lib/data/text/relationAlternatives';
import { Vocabulary } from '../../src/main/lib/data/text/vocabulary';

const alternatives = (caption: string) => relationAlternatives(caption.split(' ')).map((words) => words.join(' '));

describe('relation alternatives', () => {
  it('puts every other relation phrase in the place of the one said, keeping the words around it', () => {
    const found = alternatives('there is a big red square to the left of a blue cross');
    expect(found).toHaveLength(RELATION_PHRASES.length - 1);
    expect(new Set(found).size).toBe(found.length);
    expect(found).not.toContain('there is a big red square to the left of a blue cross');
    expect(found).toContain('there is a big red square above a blue cross');
    expect(found).toContain('there is a big red square to the right of a blue cross');
    expect(found).toContain('there is a big red square left of a blue cross');
    expect(found).toContain('there is a big red square beneath a blue cross');
    for (const caption of found) {
      expect(caption.startsWith('there is a big red square ')).toBe(true);
      expect(caption.endsWith(' a blue cross')).toBe(true);
    }
    expect(alternatives('a box above a cross')).toContain('a box to the right of a cross');
  });

  it('has none for captions that are not one relation between two simple noun phrases', () => {
    for (const caption of ['a small red star and a large yellow circle on a gray background', 'a yellow triangle on the left', 'a red star to the left of a blue box above a cross', 'a dog on a sofa to the left of a cat', 'to the left of a box']) {
      expect(alternatives(caption), caption).toEqual([]);
    }
  });

  it('works on word ids, leaving out what the vocabulary cannot say', () => {
    const vocabulary = Vocabulary.build([['a', 'box', 'left', 'of', 'a', 'star', 'right', 'above']], { minCount: 1 });
    const ids = ['a', 'box', 'left', 'of', 'a', 'star'].map((token) => vocabulary.id(token));
    const found = relationAlternativeIds(ids, vocabulary).map((alternative) => alternative.map((id) => vocabulary.token(id)).join(' '));
    expect(found.sort()).toEqual(['a box above a star', 'a box right of a star']);
  });
});
