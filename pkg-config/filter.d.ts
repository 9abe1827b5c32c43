// The metadata filter grammar (src/filter.rs): a JSON object, parsed by the core into its own
// type, so no Rust type describes it for the generator. Written by hand, checked by tests/types.

/** A filter value: equality (or membership when the field is an array). */
export type FilterScalar = string | number | boolean | null;

/** Conditions on one metadata field. */
export interface FilterCondition {
  eq?: FilterScalar;
  ne?: FilterScalar;
  in?: FilterScalar[];
  nin?: FilterScalar[];
  /** Numbers with numbers, strings with strings (ISO dates compare as strings). */
  gt?: number | string;
  gte?: number | string;
  lt?: number | string;
  lte?: number | string;
  /** Present and not null (true), or absent/null (false). */
  exists?: boolean;
}

/**
 * A metadata filter, applied before scoring: every entry must hold. Keys are field names
 * (dotted for nested fields); a scalar means equality, an array means "one of".
 * `anyOf: [filter, ...]` is an OR, `not: filter` a negation.
 * @example { lang: 'en', year: { gte: 2020 }, tags: ['rust', 'wasm'] }
 */
export type Filter = { anyOf?: Filter[]; not?: Filter } & { [field: string]: FilterScalar | FilterScalar[] | FilterCondition | Filter[] | Filter | undefined };
