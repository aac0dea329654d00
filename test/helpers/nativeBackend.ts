/**
 * The native TensorFlow backend for tests that only mean something there
 * (the quality tests train for minutes): the backend when it loads, or why
 * not, so the test can skip and say so.
 */
import { initBackend } from '../../src/main/ml/backend';
import type { BackendInfo } from '../../src/shared/types';

export async function nativeBackend(): Promise<{ backend: BackendInfo | null; reason: string }> {
  const forced = process.env.CAPTIONER_BACKEND;
  if (forced && forced !== 'tensorflow') return { backend: null, reason: `CAPTIONER_BACKEND=${forced} asks for another backend.` };
  try {
    return { backend: await initBackend({ CAPTIONER_BACKEND: 'tensorflow' }), reason: '' };
  } catch (error) {
    return { backend: null, reason: (error as Error).message };
  }
}
