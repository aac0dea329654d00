/** Engine methods for datasets: the image-heavy work (rendering the Shapes benchmark). */
import type { SynthResult } from '../../../shared/datasetsTypes';
import type { EngineContext } from '../protocol';
import type { ShapesImageFormat } from '../../lib/data/shapes/render';
import { synthesizeShapes } from '../../lib/data/shapes/synth';

export interface SynthParams {
  out: string;
  images: number;
  seed: number;
  imageSize: number;
  format: ShapesImageFormat;
  maxObjects: number;
  textures: boolean;
}

export const dataEngineHandlers = {
  /** Renders a Shapes dataset into `out`, reporting progress; cancellable between images. */
  async 'data.synth'(params: SynthParams, ctx: EngineContext): Promise<Omit<SynthResult, 'dataset'>> {
    const started = Date.now();
    return synthesizeShapes(params, {
      signal: ctx.signal,
      onProgress: ({ done, total }) => {
        const elapsed = (Date.now() - started) / 1000;
        ctx.progress({ stage: 'rendering', done, total, etaSeconds: done > 0 ? ((total - done) * elapsed) / done : null });
      },
    });
  },
};
