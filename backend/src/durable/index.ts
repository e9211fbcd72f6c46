/**
 * Durable mode entry: importing this module registers the factory with the
 * shared mode registry (../modes.ts loads it when INGEST_MODE=durable).
 */
import { registerDurableMode } from '../modes';
import { durableMode } from './mode';

registerDurableMode(durableMode);

export { durableMode, createDurableMode, type DurableModeParts } from './mode';
export { WriteAheadLog } from './wal';
export { Shipper } from './shipper';
export { InfluxWriter } from './influxWriter';
export { createBoundedBroadcaster } from './broadcaster';
export { createDurableIngestor } from './ingestor';
export { validateDurable, createDurableValidator, vehicleIdProblem } from './validate';
export { payloadToLine, escapeTagValue } from './lineProtocol';
export default durableMode;
