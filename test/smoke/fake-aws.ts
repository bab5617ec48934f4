/**
 * An in-memory versioned bucket and state machine behind aws-sdk-client-mock, plus a virtual clock,
 * so smoke-test scenarios read as "what the deployed pipeline does" rather than as mock plumbing.
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  ExecutionStatus,
  ListExecutionsCommand,
  SFNClient,
  type DescribeExecutionCommandOutput,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import type { Clock } from '../../scripts/smoke-test/clock';

export const BUCKET = 'migration-data-dev';
export const STATE_MACHINE_ARN = 'arn:aws:states:us-west-2:111111111111:stateMachine:Orchestration';

/** Virtual time: a sleep jumps the clock to when it would wake, so concurrent waits overlap as in real time. */
export class FakeClock implements Clock {
  private readonly due: { at: number; fn: () => void }[] = [];
  constructor(public ms = Date.UTC(2026, 10, 22, 12, 0, 0)) {}
  now(): number {
    return this.ms;
  }
  async sleep(ms: number): Promise<void> {
    const wake = this.ms + ms;
    await Promise.resolve();
    this.ms = Math.max(this.ms, wake);
    for (const d of this.due.filter((d) => d.at <= this.ms)) {
      this.due.splice(this.due.indexOf(d), 1);
      d.fn();
    }
  }
  /** Runs `fn` once virtual time reaches `delayMs` from now: something the pipeline does later. */
  after(delayMs: number, fn: () => void): void {
    this.due.push({ at: this.ms + delayMs, fn });
  }
}

interface Version {
  versionId: string;
  body: string;
  lastModified: Date;
}

export interface FakeExecution {
  executionArn: string;
  name: string;
  status: ExecutionStatus;
  input: string;
  output?: string;
  startDate: Date;
  stopDate?: Date;
  error?: string;
  cause?: string;
  /** Status to report on each DescribeExecution after the first; the last one sticks. */
  script?: ExecutionStatus[];
}

export class FakeAws {
  readonly s3 = mockClient(S3Client);
  readonly sfn = mockClient(SFNClient);
  readonly objects = new Map<string, Version[]>();
  readonly executions: FakeExecution[] = [];
  readonly describeCalls: string[] = [];
  /** Runs after each PutObject, as the deployed pipeline would react to the upload. */
  onPut: (key: string, body: string) => void = () => {};
  supportsVersionListing = true;
  private seq = 0;

  constructor(readonly clock: FakeClock) {
    this.s3.on(PutObjectCommand).callsFake((input: { Key: string; Body: string | Uint8Array }) => {
      const body = typeof input.Body === 'string' ? input.Body : Buffer.from(input.Body).toString('utf8');
      const versionId = this.put(input.Key, body);
      this.onPut(input.Key, body);
      return { VersionId: versionId };
    });
    this.s3.on(HeadObjectCommand).callsFake((input: { Key: string }) => {
      if (!this.current(input.Key)) throw notFound();
      return {};
    });
    this.s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
      const v = this.current(input.Key);
      if (!v) throw notFound();
      return { Body: { transformToString: async () => v.body } } as unknown as GetObjectCommandOutput;
    });
    this.s3.on(ListObjectsV2Command).callsFake((input: { Prefix?: string }) => ({
      Contents: this.keys(input.Prefix).map((Key) => ({ Key, LastModified: this.current(Key)!.lastModified })),
      IsTruncated: false,
    }));
    this.s3.on(ListObjectVersionsCommand).callsFake((input: { Prefix?: string }) => {
      if (!this.supportsVersionListing) {
        throw new S3ServiceException({
          name: 'MethodNotAllowed',
          $fault: 'client',
          $metadata: { httpStatusCode: 405 },
        });
      }
      const versions = [...this.objects.entries()]
        .filter(([k]) => k.startsWith(input.Prefix ?? ''))
        .flatMap(([Key, vs]) => vs.map((v) => ({ Key, VersionId: v.versionId })));
      return { Versions: versions, IsTruncated: false };
    });
    this.s3
      .on(DeleteObjectsCommand)
      .callsFake((input: { Delete: { Objects: { Key: string; VersionId?: string }[] } }) => {
        for (const o of input.Delete.Objects) {
          const remaining = (this.objects.get(o.Key) ?? []).filter(
            (v) => o.VersionId !== undefined && v.versionId !== o.VersionId,
          );
          if (remaining.length) this.objects.set(o.Key, remaining);
          else this.objects.delete(o.Key);
        }
        return { Deleted: input.Delete.Objects };
      });

    this.sfn.on(ListExecutionsCommand).callsFake(() => ({
      executions: [...this.executions]
        .sort((a, b) => +b.startDate - +a.startDate)
        .map(({ executionArn, name, status, startDate }) => ({
          executionArn,
          name,
          status,
          startDate,
          stateMachineArn: STATE_MACHINE_ARN,
        })),
    }));
    this.sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => {
      this.describeCalls.push(input.executionArn);
      const ex = this.executions.find((e) => e.executionArn === input.executionArn);
      if (!ex)
        throw Object.assign(new Error(`Execution Does Not Exist: '${input.executionArn}'`), {
          name: 'ExecutionDoesNotExist',
        });
      const out: DescribeExecutionCommandOutput = { ...ex, stateMachineArn: STATE_MACHINE_ARN, $metadata: {} };
      if (ex.script?.length) ex.status = ex.script.length > 1 ? ex.script.shift()! : ex.script[0]!;
      return out;
    });
  }

  put(key: string, body: string): string {
    const versionId = `v${++this.seq}`;
    const versions = this.objects.get(key) ?? [];
    versions.push({ versionId, body, lastModified: new Date(this.clock.now()) });
    this.objects.set(key, versions);
    return versionId;
  }

  startExecution(name: string, input: object, extra: Partial<FakeExecution> = {}): FakeExecution {
    const ex: FakeExecution = {
      executionArn: `arn:aws:states:us-west-2:111111111111:execution:Orchestration:${name}`,
      name,
      status: 'RUNNING',
      input: JSON.stringify(input),
      startDate: new Date(this.clock.now()),
      ...extra,
    };
    this.executions.push(ex);
    return ex;
  }

  keys(prefix = ''): string[] {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  restore(): void {
    this.s3.restore();
    this.sfn.restore();
  }

  private current(key: string): Version | undefined {
    const vs = this.objects.get(key);
    return vs?.[vs.length - 1];
  }
}

function notFound(): S3ServiceException {
  return new S3ServiceException({ name: 'NotFound', $fault: 'client', $metadata: { httpStatusCode: 404 } });
}
