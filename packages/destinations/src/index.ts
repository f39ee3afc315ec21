export {
  DestinationError,
  type DestinationStep,
  type S3DestinationConfig,
  type SftpDestinationConfig,
  type DestinationConnection,
  type DestinationSession,
  type DestinationOptions,
  type DestinationTestResult,
  type WriteOptions,
} from './destination.port';
export { openDestination } from './open-destination';
export { testDestination } from './probe';
export { destinationAddressRefusal, type ResolveAll } from './address-check';
export { SecretBox, type SecretKey } from './secret-box';
