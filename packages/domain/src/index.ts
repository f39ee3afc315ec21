export * from './cdr-columns';
export * from './errors';
export * from './cdr-record.validate';
export * from './report.types';
export * from './report-request.validate';
export * from './report.record';
export { mergeSummaries, addDecimals } from './report-summary';
