import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from '../logger';
import { isVariableCoercionError } from './errors';

/** The error a GraphQLError stands for (a resolver's, a stream's), logged as itself, so cleaned as itself. */
function cause(error: unknown): unknown {
  return error instanceof GraphQLError && error.originalError ? cause(error.originalError) : error;
}

/**
 * What a client is told of a fault: that it happened, and the request id under which its cause
 * is logged. The cause (a driver's message, say) stays in the log: it may tell anything.
 */
export function maskedFault(logger: Logger, error: unknown, requestId: string | undefined): GraphQLFormattedError {
  logger.error({ err: cause(error), requestId }, 'GraphQL request failed');
  return { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId } };
}

/**
 * An error of an operation over graphql-ws, answered as Apollo answers it over HTTP. graphql-js's
 * own errors carry no code: a variable that does not fit its type is BAD_USER_INPUT, an error with
 * a cause (a resolver's, a stream's) is a fault and masked, the rest failed validation.
 */
export function formatWsError(logger: Logger, error: GraphQLError, requestId: string | undefined): GraphQLFormattedError {
  // The status is HTTP's business: it never goes out in the body.
  const { http: _status, ...extensions } = error.extensions;
  const code = extensions.code ?? (isVariableCoercionError(error) ? 'BAD_USER_INPUT' : error.originalError ? 'INTERNAL_SERVER_ERROR' : 'GRAPHQL_VALIDATION_FAILED');
  if (code === 'INTERNAL_SERVER_ERROR') return maskedFault(logger, error, requestId);
  return { ...error.toJSON(), extensions: { ...extensions, code } };
}
