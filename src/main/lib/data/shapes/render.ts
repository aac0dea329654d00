/**
 * Scenes → images: each scene becomes a small SVG document that sharp
 * (librsvg) rasterizes to PNG or JPEG. Vector drawing keeps the renderer
 * tiny and exact, and anti-aliased edges look like real image data.
 */
import sharp from 'sharp';
import { BACKGROUND_COLORS, OBJECT_COLORS, type Scene, type SceneObject } from './scene';

export type ShapesImageFormat = 'png' | 'jpeg';

const fmt = (n: number) => String(Math.round(n * 100) / 100);

function points(list: [number, number][]): string {
  return list.map(([x, y]) => `${fmt(x)},${fmt(y)}`).join(' ');
}

function regular(cx: number, cy: number, radius: number, corners: number, rotation: number): [number, number][] {
  return Array.from({ length: corners }, (_, i) => {
    const angle = rotation + (i * 2 * Math.PI) / corners;
    return [cx + radius * Math.cos(angle), cy + radius * Math.sin(angle)];
  });
}

/** One object as an SVG element; all shapes have about the same visual extent for a radius. */
export function shapeSvg(object: SceneObject): string {
  const { x, y, radius: r } = object;
  const fill = OBJECT_COLORS[object.color];
  switch (object.shape) {
    case 'circle':
      return `<circle cx="${fmt(x)}" cy="${fmt(y)}" r="${fmt(r)}" fill="${fill}"/>`;
    case 'square': {
      const half = r * 0.85;
      return `<rect x="${fmt(x - half)}" y="${fmt(y - half)}" width="${fmt(2 * half)}" height="${fmt(2 * half)}" fill="${fill}"/>`;
    }
    case 'triangle':
      // Pointing up, centred on its circumcircle, nudged down so it looks centred.
      return `<polygon points="${points(regular(x, y + r * 0.15, r * 1.1, 3, -Math.PI / 2))}" fill="${fill}"/>`;
    case 'star': {
      const outer = regular(x, y, r * 1.1, 5, -Math.PI / 2);
      const inner = regular(x, y, r * 0.45, 5, -Math.PI / 2 + Math.PI / 5);
      return `<polygon points="${points(outer.flatMap((p, i) => [p, inner[i] as [number, number]]))}" fill="${fill}"/>`;
    }
    case 'cross': {
      const arm = r * 0.95;
      const w = r * 0.34;
      return `<polygon points="${points([
        [x - w, y - arm], [x + w, y - arm], [x + w, y - w], [x + arm, y - w], [x + arm, y + w], [x + w, y + w],
        [x + w, y + arm], [x - w, y + arm], [x - w, y + w], [x - arm, y + w], [x - arm, y - w], [x - w, y - w],
      ])}" fill="${fill}"/>`;
    }
    case 'diamond':
      return `<polygon points="${points([[x, y - r * 1.1], [x + r * 0.75, y], [x, y + r * 1.1], [x - r * 0.75, y]])}" fill="${fill}"/>`;
  }
}

/** A lighter or darker shade of the background for its texture, so texture never looks like an object. */
function textureInk(color: Scene['background']['color']): string {
  return color === 'white' ? '#c8c8c8' : color === 'black' ? '#4a4a4a' : '#b4b4b4';
}

export function sceneSvg(scene: Scene): string {
  const { width: w, height: h } = scene;
  const base = BACKGROUND_COLORS[scene.background.color];
  const ink = textureInk(scene.background.color);
  const step = Math.max(6, Math.round(w / 16));
  let defs = '';
  let texture = '';
  if (scene.background.texture === 'striped') {
    defs = `<defs><pattern id="t" width="${step}" height="${step}" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="${fmt(step / 2)}" height="${step}" fill="${ink}"/></pattern></defs>`;
    texture = `<rect width="${w}" height="${h}" fill="url(#t)"/>`;
  } else if (scene.background.texture === 'dotted') {
    defs = `<defs><pattern id="t" width="${step}" height="${step}" patternUnits="userSpaceOnUse"><circle cx="${fmt(step / 2)}" cy="${fmt(step / 2)}" r="${fmt(step / 6)}" fill="${ink}"/></pattern></defs>`;
    texture = `<rect width="${w}" height="${h}" fill="url(#t)"/>`;
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">${defs}` +
    `<rect width="${w}" height="${h}" fill="${base}"/>${texture}${scene.objects.map(shapeSvg).join('')}</svg>`
  );
}

export async function renderScene(scene: Scene, format: ShapesImageFormat): Promise<Buffer> {
  const image = sharp(Buffer.from(sceneSvg(scene)), { density: 72 });
  return format === 'png' ? image.png({ compressionLevel: 6 }).toBuffer() : image.jpeg({ quality: 92 }).toBuffer();
}
