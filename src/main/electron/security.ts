/**
 * Window hardening that does not depend on Electron at import time, so it can
 * be unit-tested: the webPreferences every window gets and the rules for
 * navigation and media URLs.
 */
export const MEDIA_SCHEME = 'media';

export function secureWebPreferences(preloadPath: string) {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    spellcheck: false,
  } as const;
}

/** The page may stay on its own origin (dev server or app files) and nowhere else. */
export function isAllowedNavigation(target: string, appUrl: string): boolean {
  try {
    const to = new URL(target);
    const app = new URL(appUrl);
    if (app.protocol === 'file:') return to.protocol === 'file:' && to.pathname === app.pathname;
    return to.origin === app.origin;
  } catch {
    return false;
  }
}

/** `media://local/?path=/abs/file.jpg&thumb=256` → path and thumb size. */
export function parseMediaUrl(url: string): { path: string; thumb: number | null } | null {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== `${MEDIA_SCHEME}:`) return null;
    const path = parsed.searchParams.get('path');
    if (!path) return null;
    const thumb = parsed.searchParams.get('thumb');
    return { path, thumb: thumb ? Number(thumb) : null };
  } catch {
    return null;
  }
}
