/** Hash routing: `#/runs/abc` → page `runs`, params `['abc']`. Survives reloads, no server routes needed. */
export const pages = [
  { id: 'datasets', label: 'Datasets' },
  { id: 'runs', label: 'Runs' },
  { id: 'compare', label: 'Compare' },
  { id: 'gallery', label: 'Gallery' },
  { id: 'tuning', label: 'Tuning' },
  { id: 'batch', label: 'Batch' },
  { id: 'system', label: 'System' },
] as const;

export type PageId = (typeof pages)[number]['id'];

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
