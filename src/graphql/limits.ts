import {
  type DocumentNode,
  type ExecutionArgs,
  type FragmentDefinitionNode,
  getNullableType,
  GraphQLError,
  type GraphQLSchema,
  isListType,
  Kind,
  type SelectionSetNode,
  type ValidationRule,
} from 'graphql';
import { type ComplexityEstimator, getComplexity } from 'graphql-query-complexity';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../db/keyset';
import { isVariableCoercionError } from './errors';

/**
 * Levels of nested fields an operation may have. Introspection is not counted: a client's
 * introspection query nests `ofType` a dozen levels by design; its cost is counted instead.
 */
export const MAX_QUERY_DEPTH = 12;
/** Roughly the fields an operation may ask for, lists counted at their page size. */
export const MAX_QUERY_COST = 10_000;
/** What an unpaged list (a workspace's projects, say) is assumed to hold. */
const UNPAGED_LIST_ROWS = 10;
/**
 * What a list of the schema's own description (types, fields, arguments, …) is assumed to hold:
 * it is read from memory, so GraphiQL's or a code generator's full introspection query costs
 * about 5,000 and runs, while a few aliased copies of it go over the limit.
 */
const INTROSPECTION_LIST_ROWS = 4;

/**
 * A field costs 1 plus its selection times the rows it returns: `first` / `last` when given,
 * the default page size for a connection, UNPAGED_LIST_ROWS for other lists (on introspection
 * types INTROSPECTION_LIST_ROWS). The `nodes` / `edges` of a connection are already counted by
 * it. `__typename` is free: it runs no resolver, and clients such as Apollo ask for it everywhere.
 */
const rowsEstimator: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  if (field.name === '__typename') return 0;
  const list = isListType(getNullableType(field.type));
  let rows = 1;
  // A page size out of range is refused by the field itself, with a clearer message.
  if (typeof args.first === 'number') rows = Math.min(Math.max(args.first, 0), MAX_PAGE_SIZE);
  else if (typeof args.last === 'number') rows = Math.min(Math.max(args.last, 0), MAX_PAGE_SIZE);
  else if (field.args.some((arg) => arg.name === 'first')) rows = DEFAULT_PAGE_SIZE;
  else if (list && type.name.startsWith('__')) rows = INTROSPECTION_LIST_ROWS;
  else if (list && !type.name.endsWith('Connection')) rows = UNPAGED_LIST_ROWS;
  return 1 + rows * childComplexity;
};

/** Costs of documents whose cost cannot depend on their variables (no Int variable, so no page size). */
const fixedCosts = new WeakMap<DocumentNode, number>();

export function operationCost(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | null | undefined, operationName?: string | null): number {
  const fixed = fixedCosts.get(document);
  if (fixed !== undefined) return fixed;
  let cost: number;
  try {
    cost = getComplexity({ schema, query: document, variables: variables ?? {}, operationName: operationName ?? undefined, estimators: [rowsEstimator] });
  } catch (error) {
    // Variables that do not fit their types: nothing runs, execution refuses them as BAD_USER_INPUT.
    if (isVariableCoercionError(error)) return 0;
    throw error;
  }
  const dependsOnVariables = document.definitions.some(
    (definition) => definition.kind === Kind.OPERATION_DEFINITION && definition.variableDefinitions?.some((variable) => /\bInt\b/.test(typeText(variable.type))),
  );
  if (!dependsOnVariables) fixedCosts.set(document, cost);
  return cost;
}

function typeText(type: { kind: Kind; type?: unknown; name?: { value: string } }): string {
  return type.name ? type.name.value : typeText(type.type as typeof type);
}

export function tooCostly(cost: number): GraphQLError {
  return new GraphQLError(`The operation would cost ${cost}, over the limit of ${MAX_QUERY_COST}: ask for smaller pages or fewer nested lists`, {
    extensions: { code: 'QUERY_TOO_COSTLY', http: { status: 400 } },
  });
}

/** `execute` for graphql-ws, refusing an operation over the cost limit before it runs. */
export function costLimited<R>(execute: (args: ExecutionArgs) => R): (args: ExecutionArgs) => R | { errors: GraphQLError[] } {
  return (args) => {
    const cost = operationCost(args.schema, args.document, args.variableValues as Record<string, unknown> | undefined, args.operationName);
    return cost > MAX_QUERY_COST ? { errors: [tooCostly(cost)] } : execute(args);
  };
}

/** Refuses operations nested deeper than `maxDepth` fields, fragments included. */
export function maxDepthRule(maxDepth: number): ValidationRule {
  return (context) => ({
    OperationDefinition(operation) {
      const fragments = new Map(
        context
          .getDocument()
          .definitions.filter((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION)
          .map((fragment) => [fragment.name.value, fragment]),
      );
      const depth = depthOf(operation.selectionSet, fragments, 0, new Set());
      if (depth > maxDepth) {
        context.reportError(
          new GraphQLError(`The operation is nested ${depth} fields deep; at most ${maxDepth} are allowed`, {
            nodes: operation,
            extensions: { code: 'QUERY_TOO_DEEP' },
          }),
        );
      }
    },
  });
}

function depthOf(selectionSet: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, depth: number, visiting: Set<string>): number {
  let deepest = depth;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value.startsWith('__')) continue;
      deepest = Math.max(deepest, selection.selectionSet ? depthOf(selection.selectionSet, fragments, depth + 1, visiting) : depth + 1);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      deepest = Math.max(deepest, depthOf(selection.selectionSet, fragments, depth, visiting));
    } else {
      const fragment = fragments.get(selection.name.value);
      // A fragment that spreads itself is refused by validation; here it only must not loop.
      if (!fragment || visiting.has(fragment.name.value)) continue;
      visiting.add(fragment.name.value);
      deepest = Math.max(deepest, depthOf(fragment.selectionSet, fragments, depth, visiting));
      visiting.delete(fragment.name.value);
    }
  }
  return deepest;
}
