/**
 * The PostgreSQL connection as the repositories use it: a pool, queries
 * written with `?` placeholders (numbered `$1, $2, ...` here, so the SQL reads
 * like the SQLite store's), and transactions on one pooled client.
 *
 * Values come back as the SQLite store's rows do: BIGINT (ids, millisecond
 * times, counts) as JavaScript numbers, JSONB as its text (the shared row
 * mappers parse it), DOUBLE PRECISION as numbers.
 */
import pg from 'pg';

/** BIGINT and NUMERIC as numbers: ids, times in ms and counts stay far below 2^53. */
const INT8_OID = 20;
const NUMERIC_OID = 1700;
/** JSONB and JSON as text, as SQLite returns its JSON columns. */
const JSON_OID = 114;
const JSONB_OID = 3802;

const types = {
  getTypeParser(oid: number, format?: string): (value: string) => unknown {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (value: string) => Number(value);
    if (oid === JSON_OID || oid === JSONB_OID) return (value: string) => value;
    return pg.types.getTypeParser(oid, format as 'text') as (value: string) => unknown;
  },
};

/** `?` → `$n`. The store's SQL never has a `?` inside a string literal or a JSON operator. */
export function numbered(text: string): string {
  let index = 0;
  return text.replace(/\?/g, () => `$${++index}`);
}

/** What a repository may run: on the pool (one statement, autocommit) or inside a transaction. */
export interface Sql {
  /** Every row. */
  all<T>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** The first row, or undefined. */
  one<T>(text: string, params?: readonly unknown[]): Promise<T | undefined>;
  /** The first column of the first row, or undefined. */
  value<T>(text: string, params?: readonly unknown[]): Promise<T | undefined>;
  /** The first column of every row. */
  column<T>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** Rows changed. */
  run(text: string, params?: readonly unknown[]): Promise<number>;
}

type Queryable = Pick<pg.PoolClient, 'query'>;

function sqlOn(target: () => Promise<Queryable>): Sql {
  const query = async (text: string, params: readonly unknown[] = []) => {
    const client = await target();
    return client.query({ text: numbered(text), values: params as unknown[] });
  };
  return {
    async all<T>(text: string, params?: readonly unknown[]) {
      return (await query(text, params)).rows as T[];
    },
    async one<T>(text: string, params?: readonly unknown[]) {
      return (await query(text, params)).rows[0] as T | undefined;
    },
    async value<T>(text: string, params?: readonly unknown[]) {
      const result = await query(text, params);
      const row = result.rows[0] as Record<string, unknown> | undefined;
      const field = result.fields[0]?.name;
      return (row && field !== undefined ? row[field] : undefined) as T | undefined;
    },
    async column<T>(text: string, params?: readonly unknown[]) {
      const result = await query(text, params);
      const field = result.fields[0]?.name as string;
      return result.rows.map((row: Record<string, unknown>) => row[field]) as T[];
    },
    async run(text: string, params?: readonly unknown[]) {
      return (await query(text, params)).rowCount ?? 0;
    },
  };
}

export interface PoolOptions {
  /** `postgres://user:password@host:port/database` */
  url: string;
  /** A schema of its own (tests, or several workbenches in one database); `public` by default. */
  schema?: string;
  /** Connections this process may hold (default 10). */
  max?: number;
}

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function createPool(options: PoolOptions): pg.Pool {
  const config: pg.PoolConfig = {
    connectionString: options.url,
    max: options.max ?? 10,
    types,
    application_name: 'captioner',
  };
  if (options.schema) config.options = `-c search_path=${quoteIdentifier(options.schema)}`;
  const pool = new pg.Pool(config);
  // An idle client losing its connection (the server restarted) must not crash the process;
  // the next query opens a new one.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * The database of one store: statements wait for `ready` (the migrations and
 * the open-time crash check) first, so the store can be handed out before
 * they finished. `ungated()` is the same pool without the wait, for that
 * opening work itself.
 */
export class Database {
  readonly sql: Sql;
  private ready: Promise<void> = Promise.resolve();

  constructor(
    readonly pool: pg.Pool,
    private readonly gated = true,
  ) {
    this.sql = sqlOn(async () => {
      await this.gate();
      return this.pool;
    });
  }

  ungated(): Database {
    return new Database(this.pool, false);
  }

  /** Statements run after `step` resolves; a failed step fails them all with its error. */
  whenReady(step: Promise<void>): void {
    this.ready = step;
  }

  async waitReady(): Promise<void> {
    await this.ready;
  }

  private async gate(): Promise<void> {
    if (this.gated) await this.ready;
  }

  /**
   * Runs `work` in a transaction on one client: committed when it resolves,
   * rolled back when it throws. READ COMMITTED: every transition the store
   * makes is a compare-and-set on the row (or takes a row lock first), which
   * is exact at that level.
   */
  async transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    await this.gate();
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(sqlOn(async () => client));
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
        client.release();
      } catch {
        // The connection itself broke: drop it rather than return it to the pool.
        client.release(true);
      }
      throw error;
    }
  }
}
