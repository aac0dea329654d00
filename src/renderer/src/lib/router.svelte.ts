/** Hash routing: `#/runs/abc` → page `runs`, params `['abc']`. Survives reloads, no server routes needed. */
import { pages, type PageId } from '../pages/registry';

export type { PageId };

function parse(hash: string): { page: PageId; params: string[] } {
  const [head, ...params] = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const page = pages.find((candidate) => candidate.id === head)?.id ?? 'datasets';
  return { page, params };
}

class Router {
  current = $state(parse(window.location.hash));

  constructor() {
    window.addEventListener('hashchange', () => {
      this.current = parse(window.location.hash);
    });
  }

  go(page: PageId, ...params: string[]): void {
    window.location.hash = `#/${[page, ...params].map(encodeURIComponent).join('/')}`;
  }
}

export const router = new Router();
