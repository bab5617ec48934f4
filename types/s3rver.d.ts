// s3rver 3 ships JavaScript only; this covers what the end-to-end tests use.
declare module 's3rver' {
  import { EventEmitter } from 'node:events';

  namespace S3rver {
    interface BucketConfig {
      name: string;
      /** Raw XML bucket configurations (CORS, website). s3rver has no versioning configuration. */
      configs?: (string | Buffer)[];
    }
    interface Options {
      address?: string;
      /** 0 picks a free port; read the real one from `run()`'s result. @default 4568 */
      port?: number;
      silent?: boolean;
      directory?: string;
      resetOnClose?: boolean;
      allowMismatchedSignatures?: boolean;
      vhostBuckets?: boolean;
      serviceEndpoint?: string;
      configureBuckets?: BucketConfig[];
      key?: string | Buffer;
      cert?: string | Buffer;
    }
    /** One S3 event notification, as AWS documents it for bucket notifications. */
    interface S3Event {
      Records: {
        eventName: string;
        eventTime: string;
        s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string; sequencer?: string } };
      }[];
    }
  }

  class S3rver extends EventEmitter {
    constructor(options?: S3rver.Options);
    run(): Promise<{ address: string; port: number; family: string }>;
    close(): Promise<void>;
    configureBuckets(): Promise<void>;
    reset(): void;
    on(event: 'event', listener: (event: S3rver.S3Event) => void): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }
  export = S3rver;
}
