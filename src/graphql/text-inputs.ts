import {
  type ArgumentNode,
  BREAK,
  type DocumentNode,
  getNamedType,
  getNullableType,
  getOperationAST,
  GraphQLError,
  type GraphQLInputType,
  type GraphQLSchema,
  isInputObjectType,
  isListType,
  Kind,
  TypeInfo,
  typeFromAST,
  type ValueNode,
  type VariableDefinitionNode,
  visit,
  visitWithTypeInfo,
} from 'graphql';

/**
 * Control characters (C0, DEL, C1) but tab and newline. NUL among them: PostgreSQL text cannot
 * hold it; the others have no place in names, keys or descriptions and mislead where they are shown.
 */
const CONTROL_CHARACTER = /[\0-\x08\x0B-\x1F\x7F-\x9F]/;

/** Why a text input is refused, or null. */
function textFault(text: string): string | null {
  const control = CONTROL_CHARACTER.exec(text);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    return `must not contain control characters other than tab and newline (found U+${code})`;
  }
  // An unpaired surrogate would be stored as U+FFFD: two different keys would become one.
  if (!text.isWellFormed()) return 'must be well-formed Unicode (found an unpaired surrogate)';
  return null;
}

type Path = Array<string | number>;

/** A text input the rule refuses: where, and why. */
interface Refusal {
  path: Path;
  fault: string;
}

function refusal(text: string, path: Path): Refusal | null {
  const fault = textFault(text);
  return fault ? { path, fault } : null;
}

function isText(type: GraphQLInputType): boolean {
  const named = getNamedType(type);
  return named.name === 'String' || named.name === 'ID';
}

/** The first String or ID in a JSON value of `type` that the rule refuses. */
function inValue(value: unknown, type: GraphQLInputType, path: Path): Refusal | null {
  if (value == null) return null;
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    // A single value stands for a list of one (input coercion).
    if (!Array.isArray(value)) return inValue(value, nullable.ofType, path);
    for (let i = 0; i < value.length; i += 1) {
      const found = inValue(value[i], nullable.ofType, [...path, i]);
      if (found) return found;
    }
    return null;
  }
  if (isInputObjectType(nullable)) {
    if (typeof value !== 'object') return null;
    for (const [name, field] of Object.entries(nullable.getFields())) {
      if (!(name in value)) continue;
      const found = inValue((value as Record<string, unknown>)[name], field.type, [...path, name]);
      if (found) return found;
    }
    return null;
  }
  return typeof value === 'string' && isText(nullable) ? refusal(value, path) : null;
}

/** The same, for a value written in the document. */
function inLiteral(node: ValueNode, type: GraphQLInputType, path: Path): Refusal | null {
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    if (node.kind !== Kind.LIST) return inLiteral(node, nullable.ofType, path);
    for (let i = 0; i < node.values.length; i += 1) {
      const found = inLiteral(node.values[i], nullable.ofType, [...path, i]);
      if (found) return found;
    }
    return null;
  }
  if (isInputObjectType(nullable)) {
    if (node.kind !== Kind.OBJECT) return null;
    for (const field of node.fields) {
      const definition = nullable.getFields()[field.name.value];
      const found = definition && inLiteral(field.value, definition.type, [...path, field.name.value]);
      if (found) return found;
    }
    return null;
  }
  return node.kind === Kind.STRING && isText(nullable) ? refusal(node.value, path) : null;
}

/** What the document's own literals are found to hold: it is the same each time the document comes. */
const literalVerdicts = new WeakMap<DocumentNode, Refusal | null>();

/** Arguments and variables' default values written in the document. */
function inLiterals(schema: GraphQLSchema, document: DocumentNode): Refusal | null {
  const known = literalVerdicts.get(document);
  if (known !== undefined) return known;
  let found: Refusal | null = null;
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Argument(node: ArgumentNode) {
        const argument = typeInfo.getArgument();
        found = argument ? inLiteral(node.value, argument.type, [node.name.value]) : null;
        return found ? BREAK : undefined;
      },
      VariableDefinition(node: VariableDefinitionNode) {
        const type = typeInfo.getInputType();
        found = node.defaultValue && type ? inLiteral(node.defaultValue, type, [node.variable.name.value]) : null;
        return found ? BREAK : undefined;
      },
    }),
  );
  literalVerdicts.set(document, found);
  return found;
}

/** The operation's variables, as their definitions type them. */
function inVariables(schema: GraphQLSchema, document: DocumentNode, variables: Readonly<Record<string, unknown>>, operationName: string | null | undefined): Refusal | null {
  for (const definition of getOperationAST(document, operationName)?.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    const type = typeFromAST(schema, definition.type) as GraphQLInputType | undefined;
    const found = type ? inValue(variables[name], type, [name]) : null;
    if (found) return found;
  }
  return null;
}

/**
 * The one rule for text at the API edge, for every String and ID input, in variables and in the
 * document alike: no control characters but tab and newline, no unpaired surrogates. Checked
 * before the operation runs; the refusal names the input's path, from the variable (or the
 * argument written in the document), e.g. ["input", "name"].
 */
export function textInputError(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Readonly<Record<string, unknown>> | null | undefined,
  operationName: string | null | undefined,
): GraphQLError | null {
  const found = inLiterals(schema, document) ?? (variables ? inVariables(schema, document, variables, operationName) : null);
  if (!found) return null;
  const shown = found.path.map((step, i) => (typeof step === 'number' ? `[${step}]` : i === 0 ? step : `.${step}`)).join('');
  return new GraphQLError(`${shown} ${found.fault}`, { extensions: { code: 'BAD_USER_INPUT', field: found.path, http: { status: 400 } } });
}
