import type { Scene, SceneObject } from '../../src/main/lib/data/shapes/scene';

/** A Shapes object in a grid cell of a 120-pixel scene, at the cell's centre. */
export function sceneObject(shape: SceneObject['shape'], color: SceneObject['color'], size: SceneObject['size'], row: number, col: number): SceneObject {
  return { shape, color, size, row, col, x: (col + 0.5) * 40, y: (row + 0.5) * 40, radius: size === 'small' ? 10 : 17 };
}

/** A 120-pixel scene on a plain gray background. */
export function plainScene(objects: SceneObject[]): Scene {
  return { width: 120, height: 120, background: { color: 'gray', texture: 'plain' }, objects };
}
