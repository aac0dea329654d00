/**
 * Which experiment store a process opens: SQLite in the data directory (the
 * embedded default) or a PostgreSQL database that several machines share.
 * Chosen with `--store` (CLI, serve mode), `CAPTIONER_STORE`, or the desktop
 * app's settings; the value is `sqlite` or a `postgres://` URL.
 */
import { ApiError } from '../../shared/errors';
import type { MetricWriterOptions } from './metricWriter';
import { openPostgresStore, redactUrl } from './postgres/store';
import { openSqliteStore } from './sqliteStore';
import type { ExperimentStore, StoreHooks } from './storage';

export type StoreSpec = { kind: 'sqlite' } | { kind: 'postgres'; url: string; schema?: string };

/** The environment variable that chooses the store when no `--store` is given. */
export const STORE_ENV = 'CAPTIONER_STORE';

/**
 * `sqlite`, or `postgres://user:password@host:5432/database` (also
 * `postgresql://`); a `schema` query parameter puts the tables in that schema.
 * `source` names where the value came from in errors.
 */
export function parseStoreSpec(value: string, source = '--store'): StoreSpec {
  const text = value.trim();
  if (text === '' || text === 'sqlite') return { kind: 'sqlite' };
  if (/^postgres(ql)?:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new ApiError('invalid_request', `${source}: "${redactUrl(text)}" is not a valid PostgreSQL URL (postgres://user:password@host:5432/database).`);
    }
    if (!url.hostname) throw new ApiError('invalid_request', `${source}: the PostgreSQL URL ${redactUrl(text)} names no host.`);
    if (url.pathname.length <= 1) throw new ApiError('invalid_request', `${source}: the PostgreSQL URL ${redactUrl(text)} names no database (…/DATABASE).`);
    const schema = url.searchParams.get('schema');
    if (schema !== null) {
      if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) throw new ApiError('invalid_request', `${source}: schema "${schema}" must be a plain identifier (letters, digits, _).`);
      url.searchParams.delete('schema');
      return { kind: 'postgres', url: url.toString(), schema };
    }
    return { kind: 'postgres', url: text };
  }
  throw new ApiError('invalid_request', `${source}: "${text}" is not a store; give "sqlite" or a postgres://user:password@host:5432/database URL.`);
}

/** The store a process uses: `--store` if given, else `CAPTIONER_STORE`, else SQLite. */
export function resolveStoreSpec(flag?: string | null, env: NodeJS.ProcessEnv = process.env): StoreSpec {
  return resolveStoreChoice(flag, env).spec;
}

/** Where the store in use was chosen (shown on the System page). */
export type StoreSource = 'flag' | 'env' | 'settings' | 'default';

export interface StoreChoice {
  spec: StoreSpec;
  source: StoreSource;
}

/**
 * The store a process uses and where that came from: `--store`, else
 * `CAPTIONER_STORE`, else the desktop app's saved setting, else SQLite.
 */
export function resolveStoreChoice(flag: string | null | undefined, env: NodeJS.ProcessEnv = process.env, saved?: string | null): StoreChoice {
  if (flag != null && flag !== '') return { spec: parseStoreSpec(flag, '--store'), source: 'flag' };
  const fromEnv = env[STORE_ENV];
  if (fromEnv) return { spec: parseStoreSpec(fromEnv, STORE_ENV), source: 'env' };
  if (saved != null && saved !== '') return { spec: parseStoreSpec(saved, 'the saved store setting'), source: 'settings' };
  return { spec: { kind: 'sqlite' }, source: 'default' };
}

/** A store value (`sqlite` or a postgres:// URL) as it may be shown: the password masked. */
export function maskStoreValue(value: string): string {
  const text = value.trim();
  return /^postgres(ql)?:\/\//i.test(text) ? redactUrl(text) : text;
}

/** For logs and the UI: never the password. */
export function describeStore(spec: StoreSpec): string {
  return spec.kind === 'sqlite' ? 'SQLite (in the data directory)' : `PostgreSQL ${redactUrl(spec.url)}${spec.schema ? ` (schema ${spec.schema})` : ''}`;
}

export interface OpenStoreOptions {
  dataDir: string;
  hooks?: StoreHooks;
  writer?: MetricWriterOptions;
  recoverOnOpen?: boolean;
  watchdogIntervalMs?: number;
}

export interface OpenedStore {
  store: ExperimentStore;
  /** Resolves with the migrations applied (names), or rejects when the database cannot be opened. */
  ready: Promise<{ from: number; to: number; applied: string[] }>;
}

export function openExperimentStore(spec: StoreSpec, options: OpenStoreOptions): OpenedStore {
  if (spec.kind === 'sqlite') {
    const store = openSqliteStore(options);
    return { store, ready: Promise.resolve(store.opened.migration) };
  }
  const store = openPostgresStore({ ...options, url: spec.url, ...(spec.schema ? { schema: spec.schema } : {}) });
  return { store, ready: store.opened.then((opened) => opened.migration) };
}
