import { type DocumentNode, GraphQLError, type GraphQLSchema, parse, type Source, specifiedRules, validate } from 'graphql';
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
    /** The syntax error of `source`, coded as Apollo codes it over HTTP; null when it parses. */
    syntaxError(source: string): GraphQLError | null {
      try {
        this.parse(source);
        return null;
      } catch (error) {
        if (!(error instanceof GraphQLError)) throw error;
        return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions: { code: 'GRAPHQL_PARSE_FAILED' } });
      }
    },
    validate(schema: GraphQLSchema, document: DocumentNode): readonly GraphQLError[] {
      if (valid.has(document)) return [];
      const errors = validate(schema, document, rules);
      if (errors.length === 0) valid.add(document);
      return errors;
    },
  };
}
