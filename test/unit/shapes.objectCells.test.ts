import { describe, expect, it } from 'vitest';
import { objectCells } from '../../src/main/lib/data/shapes/objectCells';

describe('objectCells', () => {
  const scene = { width: 128, height: 128 };

  it('a small object in the top left corner covers the cells around its centre, row-major', () => {
    // Centre (20, 20) on an 8×8 grid of 16-pixel cells: cell (1, 1) holds it; radius 10 px is 0.625 cells.
    expect(objectCells(scene, { x: 20, y: 20, radius: 10 }, 8)).toEqual([0, 1, 8, 9]);
  });

  it('a large object covers more cells than a small one at the same place, and a far corner none of them', () => {
    const small = objectCells(scene, { x: 64, y: 64, radius: 8 }, 8);
    const large = objectCells(scene, { x: 64, y: 64, radius: 24 }, 8);
    expect(large.length).toBeGreaterThan(small.length);
    for (const cell of small) expect(large).toContain(cell);
    expect(large).not.toContain(0);
    expect(large).not.toContain(63);
  });

  it('follows the grid: the same object on a 4×4 grid covers the cell holding its centre', () => {
    // (100, 30) lies in column 3, row 0 of 32-pixel cells.
    expect(objectCells(scene, { x: 100, y: 30, radius: 4 }, 4)).toEqual([3]);
  });
});
