/** `gallery.*`: an evaluation's images sorted and filtered, a caption explained, the HTML report. */
import { GalleryService } from '../evaluation/galleryService';
import type { HandlersFor } from './handlers';
import type { Services } from './services';

export function galleryHandlers(services: Services): HandlersFor<'gallery.'> {
  const gallery = new GalleryService({
    dataDir: services.dataDir,
    // Read through services at call time: the store is opened after the handlers are built.
    evaluations: {
      get: (id) => services.store.evaluations.get(id),
      items: (id, options) => services.store.evaluations.items(id, options),
    },
    explain: (params) => services.engine.call('explain.caption', params),
  });
  const queryOf = (request: { evaluationIds: number[]; sort: string; direction: 'asc' | 'desc'; word?: string | undefined; wordIn: 'any' | 'generated' | 'references'; split?: string | undefined; groundedError?: string | undefined }) => ({
    evaluationIds: request.evaluationIds,
    sort: request.sort,
    direction: request.direction,
    word: request.word,
    wordIn: request.wordIn,
    split: request.split,
    groundedError: request.groundedError,
  });
  return {
    async 'gallery.items'(request) {
      return gallery.items(queryOf(request), { offset: request.offset, limit: request.limit });
    },
    async 'gallery.explain'(request) {
      return gallery.explain(request);
    },
    async 'gallery.report'(request) {
      return gallery.report(queryOf(request), { out: request.out, heatmapImages: request.heatmapImages, limit: request.limit });
    },
  };
}
