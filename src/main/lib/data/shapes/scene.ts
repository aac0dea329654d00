/**
 * The Shapes benchmark's world: one to three objects (shape, colour, size)
 * on a 3x3 grid of cells, over a plain or textured background. Everything a
 * caption may state is recorded here, so generated captions can be checked
 * against the truth (see grounded.ts).
 */
import type { Rng } from '../random';

export const SHAPES = ['circle', 'square', 'triangle', 'star', 'cross', 'diamond'] as const;
export type Shape = (typeof SHAPES)[number];

/** Object colours: saturated and far apart, none of them a background colour. */
export const OBJECT_COLORS = {
  red: '#e6194b',
  green: '#3cb44b',
  blue: '#4363d8',
  yellow: '#ffe119',
  purple: '#911eb4',
  orange: '#f58231',
} as const;
export type ObjectColor = keyof typeof OBJECT_COLORS;
export const OBJECT_COLOR_NAMES = Object.keys(OBJECT_COLORS) as ObjectColor[];

export const BACKGROUND_COLORS = { gray: '#8c8c8c', black: '#1e1e1e', white: '#f0f0f0' } as const;
export type BackgroundColor = keyof typeof BACKGROUND_COLORS;
export const BACKGROUND_COLOR_NAMES = Object.keys(BACKGROUND_COLORS) as BackgroundColor[];

export const TEXTURES = ['plain', 'striped', 'dotted'] as const;
export type Texture = (typeof TEXTURES)[number];

export const SIZES = ['small', 'large'] as const;
export type Size = (typeof SIZES)[number];

/** Radius as a fraction of the image edge; a large object still fits inside one cell. */
export const RADIUS: Record<Size, number> = { small: 0.085, large: 0.145 };

export const GRID = 3;

export interface SceneObject {
  shape: Shape;
  color: ObjectColor;
  size: Size;
  /** Grid cell, 0 = top row / left column. Spatial relations are defined on cells. */
  row: number;
  col: number;
  /** Centre in pixels and radius in pixels, as rendered. */
  x: number;
  y: number;
  radius: number;
}

export interface Scene {
  width: number;
  height: number;
  background: { color: BackgroundColor; texture: Texture };
  objects: SceneObject[];
}

export interface SceneOptions {
  /** Edge of the square image in pixels. */
  imageSize: number;
  /** At most this many objects (1 to 3). */
  maxObjects: number;
  /** Allow striped and dotted backgrounds. */
  textures: boolean;
}

export const DEFAULT_SCENE_OPTIONS: SceneOptions = { imageSize: 128, maxObjects: 3, textures: true };

/**
 * A random scene. Objects sit in distinct cells, jittered inside them, so
 * "left of" (a smaller column) and "above" (a smaller row) are never
 * ambiguous to the eye. The count is uniform over 1..maxObjects.
 */
export function randomScene(rng: Rng, options: SceneOptions = DEFAULT_SCENE_OPTIONS): Scene {
  const edge = options.imageSize;
  const cell = edge / GRID;
  const count = rng.range(1, Math.max(1, Math.min(3, options.maxObjects)));
  const cells = rng.shuffle(Array.from({ length: GRID * GRID }, (_, i) => i)).slice(0, count);
  const objects = cells.map((index): SceneObject => {
    const row = Math.floor(index / GRID);
    const col = index % GRID;
    const size = rng.pick(SIZES);
    const radius = RADIUS[size] * edge;
    const slack = Math.max(0, cell / 2 - radius - 1);
    return {
      shape: rng.pick(SHAPES),
      color: rng.pick(OBJECT_COLOR_NAMES),
      size,
      row,
      col,
      x: round2((col + 0.5) * cell + rng.uniform(-slack, slack)),
      y: round2((row + 0.5) * cell + rng.uniform(-slack, slack)),
      radius: round2(radius),
    };
  });
  objects.sort((a, b) => a.row * GRID + a.col - (b.row * GRID + b.col));
  return {
    width: edge,
    height: edge,
    background: { color: rng.pick(BACKGROUND_COLOR_NAMES), texture: options.textures ? rng.pick(TEXTURES) : 'plain' },
    objects,
  };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

export type Relation = 'left-of' | 'right-of' | 'above' | 'below';

/** Whether `a` stands in `relation` to `b`, by grid cell. */
export function holds(relation: Relation, a: Pick<SceneObject, 'row' | 'col'>, b: Pick<SceneObject, 'row' | 'col'>): boolean {
  switch (relation) {
    case 'left-of':
      return a.col < b.col;
    case 'right-of':
      return a.col > b.col;
    case 'above':
      return a.row < b.row;
    case 'below':
      return a.row > b.row;
  }
}
