/**
 * A throwaway PostgreSQL 15 server for tests: `initdb` into a temporary
 * folder, `pg_ctl start` on a free port on 127.0.0.1 (trust auth, no
 * durability: fsync off), databases created and dropped by the tests, and
 * the whole folder removed at the end. The binaries come from Debian's
 * postgresql-15 package (`.ci/run` installs it); PostgreSQL refuses to run
 * as root, so as root the server runs as the `postgres` user the package
 * creates.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const POSTGRES_BIN = process.env.CAPTIONER_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export function postgresAvailable(): boolean {
  return existsSync(join(POSTGRES_BIN, 'initdb')) && existsSync(join(POSTGRES_BIN, 'pg_ctl'));
}

export interface TestPostgres {
  port: number;
  /** `postgres://captioner@127.0.0.1:<port>/<database>` */
  url(database?: string): string;
  createDatabase(name: string): Promise<string>;
  dropDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

interface PgUser {
  uid: number;
  gid: number;
}

function postgresUser(): PgUser | null {
  if (process.getuid?.() !== 0) return null;
  const result = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const group = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error('Tests run as root, and PostgreSQL refuses root: create a "postgres" user (the postgresql-15 package does).');
  return { uid: Number(result.stdout.trim()), gid: Number(group.stdout.trim()) };
}

function run(user: PgUser | null, command: string, args: string[]): void {
  const [file, argv] = user ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  const result = spawnSync(file, argv, { encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr || result.stdout}`);
  }
}

export async function startPostgres(): Promise<TestPostgres> {
  if (!postgresAvailable()) {
    throw new Error(`PostgreSQL 15 is not installed at ${POSTGRES_BIN}: apt-get install postgresql-15 (see .ci/run).`);
  }
  const user = postgresUser();
  const root = mkdtempSync(join(tmpdir(), 'captioner-pg-'));
  chmodSync(root, 0o700);
  if (user) chownSync(root, user.uid, user.gid);
  const data = join(root, 'data');
  const log = join(root, 'server.log');
  const port = await freePort();
  const superuser = 'captioner';
  run(user, join(POSTGRES_BIN, 'initdb'), ['-D', data, '-U', superuser, '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '--no-sync']);
  const settings = [
    `-p ${port}`,
    `-k ${root}`,
    '-c listen_addresses=127.0.0.1',
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=300',
    '-c shared_buffers=32MB',
  ].join(' ');
  try {
    run(user, join(POSTGRES_BIN, 'pg_ctl'), ['start', '-w', '-t', '60', '-D', data, '-l', log, '-o', settings]);
  } catch (error) {
    const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
    rmSync(root, { recursive: true, force: true });
    throw new Error(`${(error as Error).message}\n${text}`);
  }
  const url = (database = 'postgres') => `postgres://${superuser}@127.0.0.1:${port}/${database}`;
  const admin = new pg.Pool({ connectionString: url(), max: 2 });
  admin.on('error', () => undefined);
  return {
    port,
    url,
    async createDatabase(name) {
      await admin.query(`CREATE DATABASE "${name}"`);
      return url(name);
    },
    async dropDatabase(name) {
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
    async stop() {
      await admin.end().catch(() => undefined);
      try {
        run(user, join(POSTGRES_BIN, 'pg_ctl'), ['stop', '-m', 'immediate', '-D', data]);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}

/** Who runs the tests (for messages). */
export const testUser = userInfo().username;
