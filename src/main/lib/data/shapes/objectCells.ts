/**
 * Which cells of a model's square feature grid an object of a Shapes scene
 * covers: those whose centres lie within the object's radius, plus half a
 * cell, of its centre (the grid spans the whole scene). Used by the
 * attention probe to ask whether the attention is on an object.
 */
import type { Scene, SceneObject } from './scene';

/** Row-major indices of the cells of a `side` × `side` grid over `scene` that `object` covers. */
export function objectCells(scene: Pick<Scene, 'width' | 'height'>, object: Pick<SceneObject, 'x' | 'y' | 'radius'>, side: number): number[] {
  const cellWidth = scene.width / side;
  const cellHeight = scene.height / side;
  const cells: number[] = [];
  for (let row = 0; row < side; row++) {
    for (let col = 0; col < side; col++) {
      // Distance in cell units, so that half a cell is 0.5 along either axis.
      const dx = ((col + 0.5) * cellWidth - object.x) / cellWidth;
      const dy = ((row + 0.5) * cellHeight - object.y) / cellHeight;
      if (Math.hypot(dx, dy) <= object.radius / Math.min(cellWidth, cellHeight) + 0.5) cells.push(row * side + col);
    }
  }
  return cells;
}
