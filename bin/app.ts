#!/usr/bin/env node
import { buildApp } from '../lib/app-builder';
import { validationViolations, writeComplianceReports } from '../lib/compliance/report';

const app = buildApp();
// synth() throws on unacknowledged cdk-nag findings; cfn-guard findings only land in the validation
// report (and fail `cdk synth`). Only a clean synth records its acknowledgements as compliance reports.
app.synth();
const violations = validationViolations(app);
if (violations > 0) {
  console.error(
    `${violations} validation finding(s), see cdk.out/validation-report.json; no compliance report written.`,
  );
  process.exitCode = 1;
} else {
  writeComplianceReports(app, app.node.tryGetContext('cfnGuard') !== 'false');
}
