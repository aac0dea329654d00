/**
 * Where SQLite's and PostgreSQL's SQL differ, for the statements both stores
 * build from the same code: each store passes its dialect, the builder never
 * asks which database it is talking to.
 */
export interface SqlDialect {
  /** `column` is one of `values`: the SQL and its parameters. */
  oneOf(column: string, values: readonly unknown[]): { sql: string; params: unknown[] };
  /** The JSON array in `column` holds the text bound to the one parameter. */
  jsonArrayHas(column: string): string;
  /** The LIKE that ignores case (SQLite's LIKE already does for ASCII). */
  readonly caseInsensitiveLike: 'LIKE' | 'ILIKE';
  /** The LIMIT parameter that means no limit. */
  readonly noLimit: number | null;
}

export const sqliteDialect: SqlDialect = {
  oneOf: (column, values) => ({ sql: `${column} IN (${values.map(() => '?').join(', ')})`, params: [...values] }),
  jsonArrayHas: (column) => `EXISTS (SELECT 1 FROM json_each(${column}) WHERE json_each.value = ?)`,
  caseInsensitiveLike: 'LIKE',
  noLimit: -1,
};

export const postgresDialect: SqlDialect = {
  oneOf: (column, values) => ({ sql: `${column} = ANY(?)`, params: [[...values]] }),
  jsonArrayHas: (column) => `EXISTS (SELECT 1 FROM jsonb_array_elements_text(${column}) AS element(value) WHERE element.value = ?)`,
  caseInsensitiveLike: 'ILIKE',
  noLimit: null,
};
