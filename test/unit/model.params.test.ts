import { describe, expect, it } from 'vitest';
import { initialValues } from '../../src/main/ml/model/params';
import { Rng } from '../../src/main/ml/model/rng';

/** The Gram matrix of a row-major [rows, cols] matrix's rows (byRows) or columns. */
function gram(data: Float32Array, rows: number, cols: number, byRows: boolean): number[][] {
  const count = byRows ? rows : cols;
  const length = byRows ? cols : rows;
  const at = (vector: number, k: number): number => data[byRows ? vector * cols + k : k * cols + vector]!;
  return Array.from({ length: count }, (_, i) =>
    Array.from({ length: count }, (_, j) => {
      let dot = 0;
      for (let k = 0; k < length; k++) dot += at(i, k) * at(j, k);
      return dot;
    }),
  );
}

function expectIdentity(matrix: number[][]): void {
  matrix.forEach((row, i) => row.forEach((value, j) => expect(value).toBeCloseTo(i === j ? 1 : 0, 5)));
}

describe('orthogonal initializer', () => {
  it('gives a wide matrix orthonormal rows, as a recurrent kernel [units, 4·units] needs', () => {
    const data = initialValues([6, 24], { kind: 'orthogonal' }, new Rng(3));
    expectIdentity(gram(data, 6, 24, true));
  });

  it('gives a tall matrix orthonormal columns', () => {
    const data = initialValues([24, 6], { kind: 'orthogonal' }, new Rng(3));
    expectIdentity(gram(data, 24, 6, false));
  });

  it('keeps a state its size through repeated products with a square one', () => {
    const size = 16;
    const data = initialValues([size, size], { kind: 'orthogonal' }, new Rng(8));
    let state: number[] = Array.from({ length: size }, (_, i) => (i === 0 ? 1 : 0));
    for (let step = 0; step < 50; step++) {
      state = Array.from({ length: size }, (_, j) => state.reduce((sum, x, i) => sum + x * data[i * size + j]!, 0));
    }
    expect(Math.hypot(...state)).toBeCloseTo(1, 4);
  });

  it('draws the same matrix from the same seed and a different one from another', () => {
    const a = initialValues([4, 16], { kind: 'orthogonal' }, new Rng(1));
    expect(initialValues([4, 16], { kind: 'orthogonal' }, new Rng(1))).toEqual(a);
    expect(initialValues([4, 16], { kind: 'orthogonal' }, new Rng(2))).not.toEqual(a);
  });

  it('refuses a shape that is not a matrix, naming it', () => {
    expect(() => initialValues([2, 3, 4], { kind: 'orthogonal' }, new Rng(1))).toThrow(/\[2, 3, 4\]/);
  });
});
