import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  getNullableType,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type IntrospectionQuery,
  isAbstractType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
} from 'graphql';
import type { GraphQLClient } from './app';

/** The schema of the running server, as a client learns it. */
export async function introspect(client: GraphQLClient, token: string): Promise<GraphQLSchema> {
  return buildClientSchema(await client.data<IntrospectionQuery>(getIntrospectionQuery(), {}, token));
}

/** The arguments of a field that takes some, as they are written in a query: `(first: 2)`. */
export type ArgumentsOf = (typeName: string, field: GraphQLField<unknown, unknown>) => string;

/** Pages of two rows; any other required argument must come from `required`, keyed `Type.field`. */
export function pageArguments(required: Record<string, string>): ArgumentsOf {
  return (typeName, field) => {
    const key = `${typeName}.${field.name}`;
    if (required[key] !== undefined) return required[key];
    const missing = field.args.filter((arg) => isNonNullType(arg.type) && arg.defaultValue === undefined);
    if (missing.length > 0) throw new Error(`no value for the required arguments of ${key}: ${missing.map((arg) => arg.name).join(', ')}`);
    return field.args.some((arg) => arg.name === 'first') ? '(first: 2)' : '';
  };
}

interface Selection {
  entries: Array<{ head: string; selection?: Selection }>;
}

/**
 * A selection set of every field of every object type reachable from `root`: each type is
 * selected in full once, at its shallowest place (breadth first), and by its id (or
 * __typename) wherever else it appears, which keeps the operation within the depth and cost
 * limits however the types refer to each other. Below a list, a Node type is selected by its id
 * alone: its rows multiply the cost, and `node(id:)` reads each such type in full.
 */
export function selectEverything(schema: GraphQLSchema, root: GraphQLCompositeType, argumentsOf: ArgumentsOf): string {
  const expanded = new Set<string>();
  const top: Selection = { entries: [] };
  const queue: Array<{ type: GraphQLCompositeType; selection: Selection; belowList: boolean }> = [{ type: root, selection: top, belowList: false }];
  for (let next = queue.shift(); next; next = queue.shift()) {
    const { type, selection, belowList } = next;
    const identified = isObjectType(type) && type.getFields().id !== undefined;
    const node = isObjectType(type) && type.getInterfaces().some((each) => each.name === 'Node');
    if (expanded.has(type.name) || (belowList && node)) {
      selection.entries.push({ head: identified ? 'id' : '__typename' });
      continue;
    }
    expanded.add(type.name);
    if (isAbstractType(type)) {
      selection.entries.push({ head: '__typename' });
      for (const possible of schema.getPossibleTypes(type)) {
        const inner: Selection = { entries: [] };
        selection.entries.push({ head: `... on ${possible.name}`, selection: inner });
        queue.push({ type: possible, selection: inner, belowList });
      }
      continue;
    }
    for (const field of Object.values(type.getFields())) {
      const head = field.name + argumentsOf(type.name, field);
      const fieldType = getNamedType(field.type);
      if (isLeafType(fieldType)) {
        selection.entries.push({ head });
      } else {
        const inner: Selection = { entries: [] };
        selection.entries.push({ head, selection: inner });
        queue.push({ type: fieldType, selection: inner, belowList: belowList || isListType(getNullableType(field.type)) });
      }
    }
  }
  const print = (selection: Selection): string =>
    `{ ${selection.entries.map(({ head, selection: inner }) => (inner ? `${head} ${print(inner)}` : head)).join(' ')} }`;
  return print(top);
}

/** A document calling one root field with each of its arguments as a variable of the same name. */
export function operationOf(kind: 'query' | 'mutation', field: GraphQLField<unknown, unknown>, selection: string): string {
  const variables = field.args.map((arg) => `$${arg.name}: ${arg.type}`).join(', ');
  const args = field.args.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
  return `${kind}${variables && ` (${variables})`} { ${field.name}${args && `(${args})`} ${selection} }`;
}
