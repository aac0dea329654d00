/** `compare.*` handlers: the compare page's runs table, curves and caption comparison. */
import { StoreCompareService } from '../compare/service';
import type { HandlersFor } from './handlers';
import type { Services } from './services';

export function compareHandlers(services: Services): HandlersFor<'compare.'> {
  const compare = () => new StoreCompareService({ store: services.store });
  return {
    async 'compare.table'(request) {
      return compare().table(request.runIds, request.metrics);
    },
    async 'compare.curves'(request) {
      const { runIds, ...options } = request;
      return compare().curves(runIds, options);
    },
    async 'compare.captions'(request) {
      return compare().captions(request);
    },
  };
}
