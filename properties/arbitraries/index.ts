/** Plan arbitraries for the property suites. */
export * from './floats';
export * from './payloads';
export * from './clock';
export * from './schedule';
export * from './drafts';
export * from './hostile';
export * from './realistic';
export * from './plan';
export * from './shrinkable';
