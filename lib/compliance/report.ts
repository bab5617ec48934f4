import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stage, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

export interface Acknowledgement {
  /** Construct path the acknowledgement is attached to (it covers that construct and its children). */
  readonly path: string;
  readonly rule: string;
  readonly reason: string;
}

export interface ComplianceReport {
  readonly stage: string;
  readonly checks: readonly string[];
  /** Synthesis fails on any unacknowledged finding, so a written report always says 0. */
  readonly unacknowledgedFindings: 0;
  readonly acknowledgements: readonly Acknowledgement[];
}

function acknowledgementsUnder(scope: IConstruct): Acknowledgement[] {
  const found: Acknowledgement[] = [];
  for (const c of scope.node.findAll()) {
    for (const entry of c.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY || !entry.data) continue;
      for (const [rule, reason] of Object.entries(entry.data as Record<string, string>)) {
        found.push({ path: c.node.path, rule: rule.replace(/^annotation::/i, ''), reason });
      }
    }
  }
  return found.sort((a, b) => a.path.localeCompare(b.path) || a.rule.localeCompare(b.rule));
}

/** The compliance evidence of one stage: which checks ran and every acknowledgement with its reason. */
export function complianceReport(stage: Stage, guard: boolean): ComplianceReport {
  return {
    stage: stage.node.path,
    checks: [
      // A stage may declare more packs than AwsSolutions (PaymentCutoverStage: PCI DSS, NIST).
      ...((stage as { complianceChecks?: readonly string[] }).complianceChecks ?? ['cdk-nag AwsSolutions']),
      ...(guard ? ['cfn-guard AWS Control Tower proactive controls'] : []),
    ],
    unacknowledgedFindings: 0,
    acknowledgements: acknowledgementsUnder(stage),
  };
}

/**
 * Writes `cdk.out/compliance/<stage>.json` for every stage of a synthesized app (and `app.json` for
 * the stacks outside stages, i.e. the pipeline). Called after `app.synth()` succeeded, which means
 * no finding was left unacknowledged; the pipeline keeps these files with the cloud assembly.
 */
export function writeComplianceReports(app: App, guard: boolean): string[] {
  const dir = path.join(app.outdir, 'compliance');
  fs.mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const stages = app.node.findAll().filter((c): c is Stage => Stage.isStage(c) && c !== app);
  for (const stage of stages) {
    const file = path.join(dir, `${stage.node.path.replace(/\//g, '-')}.json`);
    fs.writeFileSync(file, `${JSON.stringify(complianceReport(stage, guard), null, 2)}\n`);
    written.push(file);
  }
  const stageAcks = new Set(stages.flatMap((s) => acknowledgementsUnder(s).map((a) => `${a.path}|${a.rule}`)));
  const appOnly = acknowledgementsUnder(app).filter((a) => !stageAcks.has(`${a.path}|${a.rule}`));
  const appFile = path.join(dir, 'app.json');
  fs.writeFileSync(
    appFile,
    `${JSON.stringify({ stage: '(app)', checks: ['cdk-nag AwsSolutions'], unacknowledgedFindings: 0, acknowledgements: appOnly }, null, 2)}\n`,
  );
  written.push(appFile);
  return written;
}

/** Number of findings in the validation report a synth wrote (0 when it wrote none). */
export function validationViolations(app: App): number {
  const file = path.join(app.outdir, 'validation-report.json');
  if (!fs.existsSync(file)) return 0;
  const report = JSON.parse(fs.readFileSync(file, 'utf8')) as { pluginReports?: { violations?: unknown[] }[] };
  return (report.pluginReports ?? []).reduce((n, r) => n + (r.violations?.length ?? 0), 0);
}
