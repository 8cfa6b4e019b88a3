import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { RESOLVERS } from '../../resolvers';
import type { EventBus } from '../realtime/pubsub';

/** The type-graphql schema; subscriptions read from `bus`. */
export function buildGraphqlSchema(bus: EventBus): Promise<GraphQLSchema> {
  return buildSchema({ resolvers: [...RESOLVERS], validate: false, pubSub: bus });
}
