/**
 * The converse of a one-relation caption: told from the other object with
 * the converse relation, the same length, back to itself when read twice;
 * captions that are not one relation between two simple noun phrases are
 * left alone; and on word ids, nothing is said that the vocabulary cannot,
 * and each telling says where its relation begins.
 */
import { describe, expect, it } from 'vitest';
import { converseIds, converseTokens } from '../../src/main/lib/data/text/converse';
import { Vocabulary } from '../../src/main/lib/data/text/vocabulary';

const converse = (caption: string) => converseTokens(caption.split(' '))?.join(' ') ?? null;

describe('converse relations', () => {
  it('tells a relation from its other object, keeping the words before the first one', () => {
    expect(converse('a large yellow disc to the left of a little red star')).toBe('a little red star to the right of a large yellow disc');
    expect(converse('there is a big red square to the right of a big blue cross')).toBe('there is a big blue cross to the left of a big red square');
    expect(converse('there is a large yellow star left of a little blue cross')).toBe('there is a little blue cross right of a large yellow star');
    expect(converse('a small red diamond under a small red star')).toBe('a small red star over a small red diamond');
    expect(converse('a little blue box above a big red triangle')).toBe('a big red triangle below a little blue box');
    expect(converse('a box below the cross')).toBe('the cross above a box');
    expect(converse('an orange cross beneath a star')).toBe('a star above an orange cross');
  });

  it('keeps the length and gives the caption back when applied twice', () => {
    for (const caption of ['a large yellow disc to the left of a little red star', 'there is a big red square right of a big blue cross', 'a box above a cross', 'a red star over a green box']) {
      const once = converse(caption)!;
      expect(once.split(' ')).toHaveLength(caption.split(' ').length);
      expect(converse(once)).toBe(caption);
    }
  });

  it('leaves captions that are not one relation between two simple noun phrases as they are', () => {
    for (const caption of [
      'a small red star and a large yellow circle on a gray background',
      'a yellow triangle on the left',
      'two red shapes and a big yellow circle',
      'a red star to the left of a blue box and a green cross',
      'a red star to the left of a blue box above a cross',
      'a dog on a sofa to the left of a cat',
      'the left of a box',
      'a red star to the left of',
      'to the left of a box',
    ]) {
      expect(converse(caption), caption).toBeNull();
    }
  });

  it('works on word ids, and says nothing the vocabulary cannot', () => {
    const full = Vocabulary.build([['a', 'box', 'left', 'of', 'a', 'star', 'right']], { minCount: 1 });
    const ids = ['a', 'box', 'left', 'of', 'a', 'star'].map((token) => full.id(token));
    const told = converseIds(ids, full)!;
    expect(told.ids.map((id) => full.token(id))).toEqual(['a', 'star', 'right', 'of', 'a', 'box']);
    // Where each telling's relation begins: after its first object's words.
    expect([told.relationAt, told.converseRelationAt]).toEqual([2, 2]);
    const longer = Vocabulary.build([['there', 'is', 'a', 'big', 'box', 'above', 'a', 'star', 'below']], { minCount: 1 });
    const uneven = converseIds(['there', 'is', 'a', 'big', 'box', 'above', 'a', 'star'].map((token) => longer.id(token)), longer)!;
    expect(uneven.ids.map((id) => longer.token(id)).join(' ')).toBe('there is a star below a big box');
    expect([uneven.relationAt, uneven.converseRelationAt]).toEqual([5, 4]);
    const withoutRight = Vocabulary.build([['a', 'box', 'left', 'of', 'a', 'star']], { minCount: 1 });
    expect(converseIds(['a', 'box', 'left', 'of', 'a', 'star'].map((token) => withoutRight.id(token)), withoutRight)).toBeNull();
  });
});
