import { GraphQLError } from 'graphql';

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
