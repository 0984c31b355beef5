import { InitialSchema1763700000000 } from './1763700000000-initial-schema';
import { StagedIngestion1763800000000 } from './1763800000000-staged-ingestion';
import { EmbeddingVersions1763900000000 } from './1763900000000-embedding-versions';
import { GaplessIndexFeed1764000000000 } from './1764000000000-gapless-index-feed';
import { AttemptOutcomes1764100000000 } from './1764100000000-attempt-outcomes';

/** Every migration, in order. New migrations are appended here. */
export const ALL_MIGRATIONS = [InitialSchema1763700000000, StagedIngestion1763800000000, EmbeddingVersions1763900000000, GaplessIndexFeed1764000000000, AttemptOutcomes1764100000000];
