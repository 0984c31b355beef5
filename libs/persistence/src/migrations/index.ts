import { InitialSchema1763700000000 } from './1763700000000-initial-schema';
import { StagedIngestion1763800000000 } from './1763800000000-staged-ingestion';
import { EmbeddingVersions1763900000000 } from './1763900000000-embedding-versions';

/** Every migration, in order. New migrations are appended here. */
export const ALL_MIGRATIONS = [InitialSchema1763700000000, StagedIngestion1763800000000, EmbeddingVersions1763900000000];
