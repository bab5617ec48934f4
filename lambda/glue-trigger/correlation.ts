import { createHash } from 'node:crypto';

/** What makes one uploaded object distinct from every other upload, including re-uploads of the same key. */
export interface ObjectIdentity {
  bucket: string;
  key: string;
  /**
   * Present in a versioned bucket; the data bucket is versioned. 'null' (S3's id for the version written while
   * versioning is off or suspended) counts as absent: every re-upload of the key gets that same id.
   */
  versionId?: string;
  /** Used with `sequencer` when there is no version id. */
  etag?: string;
  sequencer?: string;
}

/**
 * A correlation id derived only from the object's identity, so every delivery of the same event (EventBridge,
 * SQS and replays are all at-least-once) maps to the same id, and the id can be recomputed from the object.
 * 32 hex characters (128 bits of SHA-256): collisions are not a practical concern, and the id is a valid
 * Step Functions execution name as it stands.
 */
export function correlationIdFor(identity: ObjectIdentity): string {
  const version = hasRealVersionId(identity.versionId)
    ? `version:${identity.versionId}`
    : `etag:${identity.etag ?? ''}\nsequencer:${identity.sequencer ?? ''}`;
  return createHash('sha256').update(`${identity.bucket}\n${identity.key}\n${version}`).digest('hex').slice(0, 32);
}

/** A version id that names one upload: not absent, and not the 'null' version every suspended-versioning upload shares. */
export function hasRealVersionId(versionId: string | undefined): versionId is string {
  return versionId !== undefined && versionId !== 'null';
}
