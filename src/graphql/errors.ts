import { GraphQLError, Kind } from 'graphql';

/** Top-level errors: access and malformed requests only; business outcomes are userErrors. */
export function unauthenticated(message = 'Authentication required: send "Authorization: Bearer <token>"') {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
}

export function forbidden(message = 'Your role does not allow this operation') {
  return new GraphQLError(message, { extensions: { code: 'FORBIDDEN', http: { status: 403 } } });
}

export function badUserInput(message: string) {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
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
