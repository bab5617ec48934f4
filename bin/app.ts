#!/usr/bin/env node
import { buildApp } from '../lib/app-builder';
import { writeComplianceReports } from '../lib/compliance/report';

const app = buildApp();
// synth() throws on any unacknowledged cdk-nag or cfn-guard finding; reaching the next line means
// there were none, and the reports record what was acknowledged and why.
app.synth();
writeComplianceReports(app, app.node.tryGetContext('cfnGuard') !== 'false');
