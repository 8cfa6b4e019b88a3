import { Statement } from './sql';

/** A bigint column read as text (the driver gives bigint as text), null kept. */
export const bigintOrNull = (value: string | null): bigint | null => (value === null ? null : BigInt(value));

/** The SQL types of recordset columns. */
export type ColumnType = 'text' | 'bigint' | 'integer' | 'boolean' | 'timestamptz' | 'jsonb';

/** One array element: whole numbers bare, the rest quoted (with `\` and `"` escaped); null is NULL. */
function element(value: unknown, type: ColumnType): string {
  if (value === null || value === undefined) return 'NULL';
  if (type === 'boolean') return value ? 'true' : 'false';
  if (type === 'bigint' || type === 'integer') {
    const digits = String(value);
    if (!WHOLE.test(digits)) throw new TypeError(`not a whole number for a ${type} column: ${digits}`);
    return digits;
  }
  const text = type === 'jsonb' ? JSON.stringify(value) : value instanceof Date ? value.toISOString() : String(value);
  return `"${SPECIAL.test(text) ? text.replace(SPECIALS, '\\$&') : text}"`;
}

const WHOLE = /^-?\d+$/;
const SPECIAL = /[\\"]/;
const SPECIALS = /[\\"]/g;

/** An array literal of text values (for `unnest(?::text[])`). */
export function textArray(values: Iterable<string>): string {
  return `{${Array.from(values, (value) => element(value, 'text')).join(',')}}`;
}

/**
 * Rows for a set-based statement as one array literal per column: a from-item
 * `unnest(?::text[], ?::bigint[], …) as x (a, b, …)`. PostgreSQL parses these several times
 * faster than the same rows as JSON (the gateway sends thousands per statement), and column
 * names are not repeated on every row.
 */
export function recordset<Row extends object>(columns: { [K in keyof Row & string]?: ColumnType }, rows: readonly Row[], alias = 'x'): Statement {
  const entries = Object.entries(columns) as Array<[keyof Row & string, ColumnType]>;
  return new Statement(
    `unnest(${entries.map(([, type]) => `?::${type}[]`).join(', ')}) as ${alias} (${entries.map(([name]) => name).join(', ')})`,
    entries.map(([name, type]) => `{${column(rows, name, type)}}`),
  );
}

/** One column's elements; a value repeated from the row before (the same wallet, key, model) is encoded once. */
function column<Row extends object>(rows: readonly Row[], name: keyof Row & string, type: ColumnType): string {
  const elements = new Array<string>(rows.length);
  let previous: unknown = undefined;
  let encoded = '';
  for (let i = 0; i < rows.length; i += 1) {
    const value = rows[i][name];
    if (i === 0 || value !== previous || typeof value === 'object') {
      previous = value;
      encoded = element(value, type);
    }
    elements[i] = encoded;
  }
  return elements.join(',');
}
