export { EventStore } from './store';
export type { StoreOptions, AppendOptions, AppendResult, ReadStreamOptions, ReadAllOptions, CheckpointResult } from './store';
export type { RecordedEvent } from './log/record';
export type { EventInput } from './validate/validate-input';
export type { RecoveryReport } from './recovery/report';
export { LIMITS } from './validate/limits';
export { ProjectionError } from './state/projections';
export { Subscription } from './state/subscriptions';
export type { EventHandler, SubscribeOptions } from './state/subscriptions';
export type { Projection } from './state/projections';
export {
  EventfoldError,
  InvalidInputError,
  ExpectedVersionConflictError,
  StoreLockedError,
  CorruptionError,
  StoreFailedError,
  StoreClosedError,
} from './errors';
export type { ExpectedVersion, CorruptionDetails } from './errors';
export type { FileSystem, FileHandle } from './fs/file-system';
export { NodeFileSystem } from './fs/node-file-system';
export { SimulatedDisk } from './fs/simulated-disk';
export type { Fault, PowerLossPolicy, DiskOperation } from './fs/simulated-disk';
export { inspectStore } from './recovery/inspect';
export type { StoreInspection } from './recovery/inspect';
