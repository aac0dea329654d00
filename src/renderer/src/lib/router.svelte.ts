/** Hash routing: `#/runs/abc` → page `runs`, params `['abc']`. Survives reloads, no server routes needed. */
/** Every page of the workbench; `ready: false` marks one whose capability has not shipped yet. */
export const pages = [
  { id: 'datasets', label: 'Datasets', ready: true },
  { id: 'runs', label: 'Runs', ready: true },
  { id: 'compare', label: 'Compare', ready: true },
  { id: 'gallery', label: 'Gallery', ready: false },
  { id: 'tuning', label: 'Tuning', ready: false },
  { id: 'batch', label: 'Batch', ready: false },
  { id: 'system', label: 'System', ready: true },
] as const;

export type PageId = (typeof pages)[number]['id'];

function parse(hash: string): { page: PageId; params: string[] } {
  const [head, ...params] = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const page = pages.find((candidate) => candidate.id === head && candidate.ready)?.id ?? 'datasets';
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
