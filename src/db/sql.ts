/**
 * A statement with `?` placeholders and its parameters, built by the `sql` tag so that the two
 * cannot drift apart: every interpolated value becomes one placeholder at its own place.
 */
export class Statement {
  constructor(
    readonly text: string,
    readonly params: readonly unknown[],
  ) {}
}

/** `sql\`… ${value} …\``: values become parameters; a `Statement` (a fragment) is spliced in whole. */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): Statement {
  let text = strings[0];
  const params: unknown[] = [];
  values.forEach((value, i) => {
    if (value instanceof Statement) {
      text += value.text;
      params.push(...value.params);
    } else {
      text += '?';
      params.push(value);
    }
    text += strings[i + 1];
  });
  return new Statement(text, params);
}

/** Runs one statement: on a transaction of the ORM (`runOn` in src/ledger/ledger.ts) or on the gateway's session. */
export type Sql = <T>(statement: Statement) => Promise<T[]>;

/** SQL text of our own (never input), without parameters. */
export function raw(text: string): Statement {
  return new Statement(text, []);
}

export function join(parts: readonly Statement[], separator: string): Statement {
  return new Statement(
    parts.map((part) => part.text).join(separator),
    parts.flatMap((part) => part.params),
  );
}
