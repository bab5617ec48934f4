export * from './alarm-topic';
export * from './metrics';
export * from './stage-monitoring';
