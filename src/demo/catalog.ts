/**
 * The demo's price list: popular models at their providers' list prices in USD per 1M tokens
 * (standard tier, prompts within the base context length), as published in 2025, with the
 * prices of cached input (OpenAI, Anthropic) and of 5-minute cache writes (Anthropic) where they
 * have one. The ids follow the `provider/model` convention of AI gateways.
 */
export interface DemoPrice {
  model: string;
  input: string;
  output: string;
  cachedInput?: string;
  cacheWrite?: string;
}

export const DEMO_MODEL_PRICES = [
  { model: 'openai/gpt-5', input: '1.25', output: '10', cachedInput: '0.125' },
  { model: 'openai/gpt-5-mini', input: '0.25', output: '2', cachedInput: '0.025' },
  { model: 'openai/gpt-4.1', input: '2', output: '8', cachedInput: '0.5' },
  { model: 'openai/gpt-4o-mini', input: '0.15', output: '0.6', cachedInput: '0.075' },
  { model: 'anthropic/claude-opus-4.1', input: '15', output: '75', cachedInput: '1.5', cacheWrite: '18.75' },
  { model: 'anthropic/claude-sonnet-4.5', input: '3', output: '15', cachedInput: '0.3', cacheWrite: '3.75' },
  { model: 'anthropic/claude-haiku-4.5', input: '1', output: '5', cachedInput: '0.1', cacheWrite: '1.25' },
  { model: 'google/gemini-2.5-pro', input: '1.25', output: '10' },
  { model: 'google/gemini-2.5-flash', input: '0.3', output: '2.5' },
  { model: 'deepseek/deepseek-chat', input: '0.28', output: '0.42' },
  { model: 'mistralai/mistral-large', input: '2', output: '6' },
] as const satisfies readonly DemoPrice[];

export type DemoModel = (typeof DEMO_MODEL_PRICES)[number]['model'];

/** The model of the printed example debit: cheap, so that many tries cost cents. */
export const DEMO_EXAMPLE_MODEL: DemoModel = 'openai/gpt-4o-mini';
