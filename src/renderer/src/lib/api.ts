/** `api`: the preload's in Electron, a WebSocket client in a browser. Same shape. */
import type { Api } from '../../../shared/contract';
import { buildApi } from '../../../shared/apiClient';
import { ApiError } from '../../../shared/errors';
import { webSocketTransport } from './wsTransport';

declare global {
  interface Window {
    api?: Api;
  }
}

export const api: Api = window.api ?? buildApi(webSocketTransport(window.location));

/** Words a user can act on, from anything an API call threw. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    const details = error.issues.map((issue) => `${issue.path}: ${issue.message}`);
    return details.length > 0 ? `${error.message} (${details.join('; ')})` : error.message;
  }
  if (error && typeof error === 'object' && 'message' in error) return String((error as { message: unknown }).message);
  return String(error);
}
