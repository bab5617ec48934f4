// The floor for bench/synth-and-tests.ts: an app with one empty stack in the same node_modules,
// run by the same runner and CLI as the real app.
import { App, Stack } from 'aws-cdk-lib';

const app = new App();
new Stack(app, 'Empty');
app.synth();
