import { GraphQLError, type GraphQLFieldResolver, type GraphQLSchema, isObjectType, Kind } from 'graphql';
import { ForbiddenError, MalformedInputError, UnauthenticatedError } from '../errors';

/** Top-level errors: access and malformed requests only; business outcomes are userErrors. */
export function unauthenticated(message: string) {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
}

export function forbidden(message: string) {
  return new GraphQLError(message, { extensions: { code: 'FORBIDDEN', http: { status: 403 } } });
}

export function badUserInput(message: string) {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

/**
 * The one mapping of the domain's refusals to top-level errors: who is unknown is
 * UNAUTHENTICATED, who may not is FORBIDDEN, a malformed request is BAD_USER_INPUT. Business
 * outcomes (DomainError) become userErrors in the mutation's payload (resolvers/common.types.ts);
 * anything else is a fault.
 */
export function toGraphQLError(error: unknown): unknown {
  if (error instanceof MalformedInputError) return badUserInput(error.message);
  if (error instanceof UnauthenticatedError) return unauthenticated(error.message);
  if (error instanceof ForbiddenError) return forbidden(error.message);
  return error;
}

function mapped<S, C, A>(run: GraphQLFieldResolver<S, C, A>): GraphQLFieldResolver<S, C, A> {
  const rethrow = (error: unknown) => {
    throw toGraphQLError(error);
  };
  return (source, args, context, info) => {
    try {
      const result = run(source, args, context, info);
      return result instanceof Promise ? result.catch(rethrow) : result;
    } catch (error) {
      return rethrow(error);
    }
  };
}

/** Has every resolver and subscribe function of the schema answer refusals through `toGraphQLError`. */
export function mapDomainErrors(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (field.resolve) field.resolve = mapped(field.resolve);
      if (field.subscribe) field.subscribe = mapped(field.subscribe);
    }
  }
  return schema;
}

/**
 * An error of graphql-js's coercion of the variables (a wrong type, a value a scalar or enum
 * refuses, a required variable missing): it points at the variable's definition and at nothing else.
 */
export function isVariableCoercionError(error: unknown): boolean {
  return error instanceof GraphQLError && error.nodes?.length === 1 && error.nodes[0].kind === Kind.VARIABLE_DEFINITION;
}

/** An operation refused because the server is stopping: nothing of it ran, so it may be sent again. */
export function shuttingDown() {
  return new GraphQLError('The server is shutting down: send it again, to another replica (with the same idempotency key)', {
    extensions: { code: 'SHUTTING_DOWN' },
  });
}
