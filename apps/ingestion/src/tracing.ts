// The first import of main.ts: OpenTelemetry has to hook pg and ioredis before they are loaded.
import { startTracing } from '@quarry/observability';

startTracing('ingestion');
