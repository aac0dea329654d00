/** Dataset-process methods for the image-heavy work: rendering the Shapes benchmark, verifying images by decoding them. */
import type { SynthResult } from '../../../shared/datasetsTypes';
import { verifyImages, type ImageToVerify, type VerifyImagesProgress, type VerifyImagesResult } from '../../lib/data/readers/verifyImages';
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

export interface VerifyImagesParams {
  images: ImageToVerify[];
  /** Largest width × height accepted (default MAX_IMAGE_PIXELS). */
  maxPixels?: number;
}

/** What `data.verifyImages` streams after each image: counts so far. */
export type VerifyImagesProgressData = VerifyImagesProgress;

export const dataEngineHandlers = {
  /**
   * Decodes every image at thumbnail size (a few at a time) and answers the
   * bad ones with their reasons. After each image it streams
   * `VerifyImagesProgressData`; cancelling stops it between images.
   */
  async 'data.verifyImages'(params: VerifyImagesParams, ctx: EngineContext<VerifyImagesProgressData>): Promise<VerifyImagesResult> {
    const started = Date.now();
    return verifyImages(params.images, {
      signal: ctx.signal,
      ...(params.maxPixels ? { maxPixels: params.maxPixels } : {}),
      onProgress: (progress) => {
        const elapsed = (Date.now() - started) / 1000;
        ctx.emit(progress);
        ctx.progress({
          stage: 'verifying images',
          done: progress.done,
          total: progress.total,
          etaSeconds: progress.done > 0 ? ((progress.total - progress.done) * elapsed) / progress.done : null,
          message: `${progress.bad} unreadable`,
        });
      },
    });
  },


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
