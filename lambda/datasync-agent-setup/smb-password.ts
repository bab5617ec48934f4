/**
 * Reads the SMB password from the Secrets Manager secret named in the config (`password` key of
 * its JSON). The password only ever goes into the CreateLocationSmb request: it is not logged, not
 * returned, and no error message quotes the secret's content.
 */

interface GetSecretValueOutput {
  readonly SecretString?: string;
}

/** The slice of @aws-sdk/client-secrets-manager used here. */
interface SecretsManagerModule {
  readonly SecretsManagerClient: new (config: object) => { send(command: unknown): Promise<GetSecretValueOutput> };
  readonly GetSecretValueCommand: new (input: { SecretId: string }) => unknown;
}

/** Wrong secret content; the message names the secret and the problem, never the value. */
export class SmbSecretError extends Error {
  constructor(secretArn: string, problem: string) {
    super(`SMB password secret ${secretArn} ${problem}`);
    this.name = 'SmbSecretError';
  }
}

let client: InstanceType<SecretsManagerModule['SecretsManagerClient']> | undefined;
let commands: SecretsManagerModule | undefined;

function secretsManager(): { client: NonNullable<typeof client>; module: SecretsManagerModule } {
  if (client === undefined || commands === undefined) {
    // The Lambda Node.js runtime ships SDK v3 (bundling marks @aws-sdk/* external). The package is
    // not yet a devDependency of this repository, so it is loaded untyped here; once it is, replace
    // this with a static import and mockClient(SecretsManagerClient) in the tests.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    commands = require('@aws-sdk/client-secrets-manager') as SecretsManagerModule;
    client = new commands.SecretsManagerClient({});
  }
  return { client, module: commands };
}

export async function readSmbPassword(secretArn: string): Promise<string> {
  const sm = secretsManager();
  const output = await sm.client.send(new sm.module.GetSecretValueCommand({ SecretId: secretArn }));
  if (typeof output.SecretString !== 'string')
    throw new SmbSecretError(secretArn, 'has no SecretString (binary secrets are not supported)');
  let parsed: unknown;
  try {
    parsed = JSON.parse(output.SecretString);
  } catch {
    // JSON.parse errors quote the input; this one must not.
    throw new SmbSecretError(secretArn, 'is not a JSON object with a "password" key');
  }
  const password =
    typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)['password'] : undefined;
  if (typeof password !== 'string' || password === '') {
    throw new SmbSecretError(secretArn, 'has no non-empty "password" key');
  }
  return password;
}
