export { ensurePartitions, listPartitions, partitionFor, partitionsBetween, type Partition } from './partitions';
export { dropExpiredPartitions, retentionCutoff } from './retention';
