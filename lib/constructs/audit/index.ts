export * from './audit-delivery';
export * from './audit-domain';
export * from './audit-event-target';
