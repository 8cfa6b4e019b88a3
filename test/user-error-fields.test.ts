import { getNullableType, type GraphQLInputType, type GraphQLSchema, isInputObjectType, isListType } from 'graphql';
import { ADMIN_TOKEN, useTestApp } from './support/app';
import { introspect } from './support/introspection';
import { type RootField, Unresolved, userErrorsOfRootFields } from './support/user-error-fields';

/**
 * The `field` of a user error is a path into the arguments of the operation that reported it.
 * Every path the code can produce, read from the source by following each resolver's calls, is
 * checked against the schema the running server introspects.
 */

const app = useTestApp();
let schema: GraphQLSchema;
let rootFields: RootField[];
let sites: string[];

beforeAll(async () => {
  schema = await introspect(app, ADMIN_TOKEN);
  ({ rootFields, sites } = userErrorsOfRootFields());
});

const rootTypes = () => ({ Mutation: schema.getMutationType()!, Query: schema.getQueryType()!, Subscription: schema.getSubscriptionType()! });

/** Why `path` names no input of the root field, or null when it does. */
function pathProblem(field: RootField, path: unknown): string | null {
  if (!Array.isArray(path) || path.length === 0) return 'not a path';
  const [argumentName, ...rest] = path.map(String);
  const argument = rootTypes()[field.type].getFields()[field.name].args.find((arg) => arg.name === argumentName);
  if (!argument) return `${field.name} has no argument ${argumentName}`;
  let type: GraphQLInputType = argument.type;
  for (const segment of rest) {
    const nullable = getNullableType(type);
    if (isListType(nullable) && /^\d+$/.test(segment)) type = nullable.ofType;
    else if (isInputObjectType(nullable) && nullable.getFields()[segment]) type = nullable.getFields()[segment].type;
    else return `${nullable} has no field ${segment}`;
  }
  return null;
}

describe('the field paths of user errors', () => {
  it('are read for the resolver of every root field of the schema', () => {
    for (const [type, rootType] of Object.entries(rootTypes())) {
      const read = rootFields.filter((field) => field.type === type).map((field) => field.name);
      expect(read.sort()).toEqual(Object.keys(rootType.getFields()).sort());
    }
  });

  it('are read from every place that raises a user error: each is reached from some root field', () => {
    const reached = new Set(rootFields.flatMap((field) => field.errors.map((error) => error.at)));
    expect(sites.filter((site) => !reached.has(site))).toEqual([]);
  });

  it('name an argument of the operation and fields of its input type, wherever the code can raise them', () => {
    const problems: string[] = [];
    for (const field of rootFields) {
      for (const error of field.errors) {
        if (error.fields instanceof Unresolved) {
          problems.push(`${error.at}: cannot tell the field path of ${field.type}.${field.name} from \`${error.fields.text}\` (${error.fields.at})`);
          continue;
        }
        for (const path of error.fields) {
          const problem = path === null ? null : pathProblem(field, path);
          if (problem) problems.push(`${error.at}: ${field.type}.${field.name} reports ${JSON.stringify(path)}: ${problem}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('come with messages that put "an" before a vowel and "a" before a consonant', () => {
    const messages = new Set(rootFields.flatMap((field) => field.errors.flatMap((error) => error.messages)));
    expect(messages.size).toBeGreaterThan(50);
    // "a user", "a one-off" and "an hour", "an http(s) URL" are right as they are.
    expect([...messages].filter((message) => /\ba (?!one\b)[aeio]|\ban (?!h)[b-df-np-tv-z]/i.test(message))).toEqual([]);
  });
});
