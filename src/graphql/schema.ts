import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema, type PubSub } from 'type-graphql';
import { RESOLVERS } from '../../resolvers';
import { mapDomainErrors } from './errors';

/**
 * type-graphql insists on a pub/sub for its `topics` subscriptions; ours use none of them: each
 * subscribes to the request context's event bus itself (scoped, with its first event and merging).
 */
const noTopics: PubSub = {
  publish() {
    throw new Error('publish through the EventBus');
  },
  subscribe() {
    throw new Error('subscriptions subscribe to the EventBus in their own subscribe function');
  },
};

export async function buildGraphqlSchema(): Promise<GraphQLSchema> {
  return mapDomainErrors(await buildSchema({ resolvers: [...RESOLVERS], validate: false, pubSub: noTopics }));
}
