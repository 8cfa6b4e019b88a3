import { type DocumentNode, type GraphQLError, type GraphQLSchema, parse, type Source, specifiedRules, validate } from 'graphql';
import { MAX_QUERY_DEPTH, maxDepthRule } from './limits';

/**
 * Parse and validate each distinct operation once. A gateway sends the same few documents
 * millions of times; without this, parsing and validating would cost more than executing.
 * (Apollo keeps its own such cache for HTTP; this one serves graphql-ws.)
 */
export function documentCache(maxDocuments = 1000) {
  const rules = [...specifiedRules, maxDepthRule(MAX_QUERY_DEPTH)];
  const parsed = new Map<string, DocumentNode>();
  const valid = new WeakSet<DocumentNode>();
  return {
    parse(source: string | Source): DocumentNode {
      const text = typeof source === 'string' ? source : source.body;
      let document = parsed.get(text);
      if (!document) {
        document = parse(source);
        if (parsed.size >= maxDocuments) parsed.clear();
        parsed.set(text, document);
      }
      return document;
    },
    validate(schema: GraphQLSchema, document: DocumentNode): readonly GraphQLError[] {
      if (valid.has(document)) return [];
      const errors = validate(schema, document, rules);
      if (errors.length === 0) valid.add(document);
      return errors;
    },
  };
}
