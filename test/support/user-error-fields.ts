import { join, relative } from 'node:path';
import ts from 'typescript';

const ROOT = join(__dirname, '..', '..');

/** A `new DomainError(…)` in the source: where, and the field paths and messages it can have there. */
export interface UserErrorSite {
  at: string;
  /** Each path the error can carry (null: none); unresolved when the code computes it in a way this reading cannot follow. */
  fields: Array<string[] | null> | Unresolved;
  messages: string[];
}

/** A root field of the schema and the user errors its resolver can raise. */
export interface RootField {
  type: 'Mutation' | 'Query' | 'Subscription';
  name: string;
  at: string;
  errors: UserErrorSite[];
}

export class Unresolved {
  constructor(readonly at: string, readonly text: string) {}
}

type Value = string | number | boolean | null | undefined | Value[];
/** What each parameter of the function being read holds at one call: its possible values. */
type Bindings = Map<ts.ParameterDeclaration, Value[] | Unresolved>;
type FunctionLike = ts.FunctionLikeDeclaration & { body: ts.Node };

/**
 * Reads the server's source (from resolvers/index.ts, with the TypeScript compiler) and follows
 * every call from each resolver of a root field to the `new DomainError(code, message, field)`
 * it can reach, evaluating `field` and `message` with the arguments of each call on the way:
 * literals, constants, parameters, conditionals, templates, arrays and spreads, `.split` of a
 * literal, functions that only return an expression, and types that are unions of literals.
 * Anything else is reported as unresolved rather than guessed.
 */
export function userErrorsOfRootFields(): { rootFields: RootField[]; sites: string[] } {
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
  const program = ts.createProgram([join(ROOT, 'resolvers/index.ts')], config.options);
  const checker = program.getTypeChecker();
  const ours = program.getSourceFiles().filter((file) => !file.isDeclarationFile && !file.fileName.includes('/node_modules/'));
  const domainError = ours
    .find((file) => file.fileName.endsWith('/src/errors.ts'))!
    .statements.find((statement): statement is ts.ClassDeclaration => ts.isClassDeclaration(statement) && statement.name?.text === 'DomainError')!;

  const where = (node: ts.Node) => {
    const file = node.getSourceFile();
    return `${relative(ROOT, file.fileName)}:${file.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
  };
  const unresolved = (node: ts.Node) => new Unresolved(where(node), node.getText());

  function declarationOf(expression: ts.Expression): ts.Declaration | undefined {
    let symbol = checker.getSymbolAtLocation(ts.isPropertyAccessExpression(expression) ? expression.name : expression);
    if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    return symbol?.valueDeclaration ?? symbol?.declarations?.[0];
  }

  /** The function of ours a call or `new` runs, if it has a body to read. */
  function calleeOf(expression: ts.Expression): FunctionLike | undefined {
    const declaration = declarationOf(expression);
    if (!declaration || declaration.getSourceFile().isDeclarationFile || declaration.getSourceFile().fileName.includes('/node_modules/')) return undefined;
    let callee: ts.Node | undefined = declaration;
    if ((ts.isVariableDeclaration(declaration) || ts.isPropertyDeclaration(declaration)) && declaration.initializer) callee = declaration.initializer;
    if (ts.isClassDeclaration(declaration)) callee = declaration.members.find(ts.isConstructorDeclaration);
    return callee && ts.isFunctionLike(callee) && (callee as ts.FunctionLikeDeclaration).body ? (callee as FunctionLike) : undefined;
  }

  function literalsOfType(node: ts.Expression): Value[] | undefined {
    const type = checker.getTypeAtLocation(node);
    const members = type.isUnion() ? type.types : [type];
    const values: Value[] = [];
    for (const member of members) {
      if (member.isStringLiteral() || member.isNumberLiteral()) values.push(member.value);
      else if (member.flags & ts.TypeFlags.Null) values.push(null);
      else if (member.flags & ts.TypeFlags.Undefined) values.push(undefined);
      else return undefined;
    }
    return values;
  }

  const product = (parts: Value[][]): Value[][] => parts.reduce<Value[][]>((rows, options) => rows.flatMap((row) => options.map((option) => [...row, option])), [[]]);

  /** The values an expression can have, given the values of the parameters it reads. */
  function evaluate(node: ts.Expression, bindings: Bindings): Value[] {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [node.text];
    if (ts.isNumericLiteral(node)) return [Number(node.text)];
    if (node.kind === ts.SyntaxKind.NullKeyword) return [null];
    if (ts.isParenthesizedExpression(node) || ts.isAsExpression(node) || ts.isNonNullExpression(node) || ts.isSatisfiesExpression(node)) {
      return evaluate(node.expression, bindings);
    }
    if (ts.isConditionalExpression(node)) return [...evaluate(node.whenTrue, bindings), ...evaluate(node.whenFalse, bindings)];
    if (ts.isTemplateExpression(node)) {
      const spans = node.templateSpans.map((span) => evaluate(span.expression, bindings).map((value) => `${value}${span.literal.text}`));
      return product([[node.head.text], ...spans]).map((parts) => parts.join(''));
    }
    if (ts.isArrayLiteralExpression(node)) {
      const parts = node.elements.map((element) =>
        ts.isSpreadElement(element) ? evaluate(element.expression, bindings).map((value) => (Array.isArray(value) ? value : [value])) : evaluate(element, bindings).map((value) => [value]),
      );
      return product(parts).map((row) => (row as Value[][]).flat());
    }
    if (ts.isCallExpression(node)) {
      const method = node.expression;
      if (ts.isPropertyAccessExpression(method) && method.name.text === 'split' && node.arguments.length === 1 && ts.isStringLiteral(node.arguments[0])) {
        const separator = node.arguments[0].text;
        return evaluate(method.expression, bindings).map((value) => String(value).split(separator));
      }
      const callee = calleeOf(method);
      const returned = callee && (ts.isBlock(callee.body) ? onlyReturn(callee.body) : (callee.body as ts.Expression));
      if (callee && returned) return evaluate(returned, bind(callee, node, bindings));
    }
    if (ts.isIdentifier(node)) {
      if (node.text === 'undefined') return [undefined];
      const declaration = declarationOf(node);
      if (declaration && ts.isParameter(declaration) && bindings.has(declaration)) {
        const bound = bindings.get(declaration)!;
        if (!(bound instanceof Unresolved)) return bound;
      } else if (declaration && ts.isVariableDeclaration(declaration) && declaration.initializer && ts.getCombinedNodeFlags(declaration) & ts.NodeFlags.Const) {
        return evaluate(declaration.initializer, bindings);
      }
    }
    const literals = literalsOfType(node);
    if (literals) return literals;
    throw unresolved(node);
  }

  function onlyReturn(block: ts.Block): ts.Expression | undefined {
    const [statement] = block.statements;
    return block.statements.length === 1 && ts.isReturnStatement(statement) ? statement.expression : undefined;
  }

  /** The parameters of `callee` at one call: the arguments' values, or the defaults. */
  function bind(callee: FunctionLike, call: ts.CallExpression | ts.NewExpression, outer: Bindings): Bindings {
    const bindings: Bindings = new Map();
    callee.parameters.forEach((parameter, i) => {
      const argument = call.arguments?.[i];
      const given = argument && !ts.isSpreadElement(argument) ? argument : undefined;
      const source = given ?? (argument ? undefined : parameter.initializer);
      const scope = given ? outer : bindings;
      try {
        bindings.set(parameter, source ? evaluate(source, scope) : argument ? unresolved(argument) : [undefined]);
      } catch (error) {
        if (!(error instanceof Unresolved)) throw error;
        bindings.set(parameter, error);
      }
    });
    return bindings;
  }

  /** A message's possible texts, with "…" for what cannot be known before it runs (a count, Stripe's words). */
  function textsOf(node: ts.Expression, bindings: Bindings): string[] {
    const known = (expression: ts.Expression) => {
      const values = attempt(() => evaluate(expression, bindings));
      return values instanceof Unresolved ? ['…'] : values;
    };
    if (!ts.isTemplateExpression(node)) return known(node).map(String);
    const spans = node.templateSpans.map((span) => known(span.expression).map((value) => `${value}${span.literal.text}`));
    return product([[node.head.text], ...spans]).map((parts) => parts.join(''));
  }

  const attempt = <T>(work: () => T): T | Unresolved => {
    try {
      return work();
    } catch (error) {
      if (error instanceof Unresolved) return error;
      throw error;
    }
  };

  function site(creation: ts.NewExpression, bindings: Bindings): UserErrorSite {
    const [, message, field] = creation.arguments ?? [];
    const fields = field ? attempt(() => evaluate(field, bindings) as Array<string[] | null>) : [null];
    return { at: where(creation), fields, messages: textsOf(message, bindings) };
  }

  /** The user errors a function can raise when called with `bindings`, through everything it calls. */
  const known = new Map<string, UserErrorSite[]>();
  function errorsOf(fn: FunctionLike | ts.MethodDeclaration, bindings: Bindings): UserErrorSite[] {
    const key = `${where(fn)}(${[...bindings.values()].map((value) => (value instanceof Unresolved ? '?' : JSON.stringify(value))).join(',')})`;
    // A recursive call finds nothing new: what it raises is already being collected.
    if (known.has(key)) return known.get(key)!;
    known.set(key, []);
    const found: UserErrorSite[] = [];
    const visit = (node: ts.Node): void => {
      if (ts.isNewExpression(node) && declarationOf(node.expression) === domainError) found.push(site(node, bindings));
      else if (ts.isCallExpression(node) || ts.isNewExpression(node)) {
        const callee = calleeOf(node.expression);
        if (callee) found.push(...errorsOf(callee, bind(callee, node, bindings)));
      }
      ts.forEachChild(node, visit);
    };
    ts.forEachChild(fn, visit);
    known.set(key, found);
    return found;
  }

  const rootFields: RootField[] = [];
  const sites: string[] = [];
  for (const file of ours) {
    const visit = (node: ts.Node): void => {
      if (ts.isNewExpression(node) && declarationOf(node.expression) === domainError) sites.push(where(node));
      if (ts.isMethodDeclaration(node)) {
        for (const decorator of ts.getDecorators(node) ?? []) {
          const call = decorator.expression;
          if (!ts.isCallExpression(call) || !ts.isIdentifier(call.expression)) continue;
          const type = call.expression.text;
          if (type === 'Mutation' || type === 'Query' || type === 'Subscription') {
            rootFields.push({ type, name: (node.name as ts.Identifier).text, at: where(node), errors: errorsOf(node, new Map()) });
          }
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  return { rootFields, sites };
}
