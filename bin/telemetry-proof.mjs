#!/usr/bin/env node
// `npx telemetry-proof …`: run the TypeScript CLI through tsx (no build step).
import { register } from 'tsx/esm/api';

register();
await import('../runners/cli.ts');
