export * from './cdr-columns';
export * from './errors';
